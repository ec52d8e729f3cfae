"""A phone's portrait video is stored landscape with a display matrix in its track header: the
demuxer reports the quarter turn, checked against ffprobe's reading of the same matrix."""
from __future__ import annotations

import json
import subprocess

import pytest

from .clips import FFPROBE, demux, make
from tests.fixtures.cameras import FFMPEG


def turned(folder, degrees_tag: int):
    """h264_faststart.mp4's stream with ffmpeg's legacy `rotate` tag (written as tkhd's matrix)."""
    out = folder / f"turned_{degrees_tag}.mp4"
    if not out.exists():
        subprocess.run([FFMPEG, "-loglevel", "error", "-y", "-i", str(make(folder, "h264_faststart.mp4")), "-c", "copy",
                        "-metadata:s:v:0", f"rotate={degrees_tag}", str(out)], check=True)
    return out


def ffprobe_clockwise(path) -> int:
    """ffprobe's display-matrix rotation (counter-clockwise degrees, ffmpeg's convention) as clockwise."""
    stream = json.loads(subprocess.run([FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json",
                                        str(path)], check=True, capture_output=True, text=True).stdout)["streams"][0]
    ccw = next((int(float(d["rotation"])) for d in stream.get("side_data_list", []) if "rotation" in d), 0)
    return (-ccw) % 360


@pytest.mark.parametrize("tag", [90, 180, 270])
def test_a_turned_track_reports_its_quarter_turn(clip_folder, tag):
    path = turned(clip_folder, tag)
    expected = ffprobe_clockwise(path)
    assert expected != 0
    assert demux(path)[0].track.rotation == expected


def test_an_unturned_track_reports_none(clip_folder):
    assert demux(make(clip_folder, "h264_faststart.mp4"))[0].track.rotation == 0
    assert ffprobe_clockwise(make(clip_folder, "h264_faststart.mp4")) == 0
