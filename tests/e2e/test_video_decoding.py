"""How a video file is decoded (issue 28's speed): WebCodecs in the engine's thread, checked against the
browser's own <video> element.

The default decodes each frame once with VideoDecoder, fed by moodcam.media's demuxer, and keeps
the frame a <video> shows at each sample time (moodcam.video_picking). The reference is Chromium's
media pipeline itself: the same file analysed with ?video_decoder=seek, where the page seeks a
<video> to each sample time and hands over what it shows. Both must analyse the same frames at the
same times with the same faces, and the same probabilities up to the colour conversion's rounding
(the two paths convert YUV to RGB in different code). A file the demuxer does not take (a
fragmented MP4) falls back to seeking and is analysed all the same.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest

from tests.fixtures import cameras as camera_fixtures
from tests.fixtures import videos

from .conftest import open_app
from .test_video import download, ready

pytestmark = pytest.mark.e2e

PROBABILITY_TOLERANCE = 0.06      # seven probabilities of the same face, YUV->RGB converted by two code paths
COLUMNS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return tmp_path_factory.mktemp("decoding")


def fragmented(source, out):
    """The same H.264 stream as a fragmented MP4 (moof boxes), which moodcam.media leaves to the <video>."""
    if not out.exists():
        subprocess.run([camera_fixtures.FFMPEG, "-loglevel", "error", "-y", "-i", str(source), "-c", "copy",
                        "-movflags", "frag_keyframe+empty_moov", str(out)], check=True)
    return out


def portrait(source, out):
    """A video stored turned, as a phone stores one: the story's 640x480 frames kept turned a quarter
    clockwise (480x640, faces on their side) with the display matrix that turns them back (ffmpeg's
    legacy `rotate` tag, written as tkhd's matrix), so that a <video> shows them upright at 640x480."""
    if not out.exists():
        turned = out.with_name(out.stem + "-stored.mp4")
        subprocess.run([camera_fixtures.FFMPEG, "-loglevel", "error", "-y", "-i", str(source), "-vf", "transpose=1",
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(turned)],
                       check=True)
        subprocess.run([camera_fixtures.FFMPEG, "-loglevel", "error", "-y", "-i", str(turned), "-c", "copy",
                        "-metadata:s:v:0", "rotate=90", "-movflags", "+faststart", str(out)], check=True)
    return out


def analysed(app, path) -> tuple[dict, list[dict]]:
    """Choose `path` and wait for its report (its name shown and the analysis ended): a fast analysis
    can pass "analysing" between two polls."""
    app.page.set_input_files("#video-file", str(path))
    data = app.wait_for(lambda s: path.name in s.text("video-name")
                        and s.data().get("videoState") in ("done", "cancelled", "error") and s.data(),
                        240, f"the analysis of {path.name}")
    assert data["videoState"] == "done", (data, app.error(), app.text("notice"))
    return json.loads(download(app, "#video-export-json")), list(csv.DictReader(io.StringIO(
        download(app, "#video-export-csv"))))


def by_frame_and_face(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(row["time_s"], row["face_id"]): row for row in rows}


def test_webcodecs_analyses_the_frames_seeking_shows_and_a_fragmented_mp4_falls_back(server, cameras, clips):
    clip = videos.story(clips, "mp4")
    with open_app(server, camera=cameras("coffee"), camera_permission=False, query="?backend=wasm") as app:
        ready(app)
        report, rows = analysed(app, clip)
        assert report["settings"]["decoder"].startswith("WebCodecs"), report["settings"]
    with open_app(server, camera=cameras("coffee"), camera_permission=False, query="?backend=wasm") as app:
        ready(app)
        # A layout the demuxer leaves to the browser: seeking, with the reason in the report.
        frag_report, frag_rows = analysed(app, fragmented(clip, clips / "story-fragmented.mp4"))
        assert frag_report["settings"]["decoder"].startswith("seeking"), frag_report["settings"]
        assert "fragmented" in frag_report["settings"]["decoder"]
        assert frag_report["frames_analysed"] == report["frames_analysed"] == round(videos.DURATION_S * 10)
    with open_app(server, camera=cameras("coffee"), camera_permission=False,
                  query="?backend=wasm&video_decoder=seek") as app:
        ready(app)
        seek_report, seek_rows = analysed(app, clip)
    assert seek_report["settings"]["decoder"].startswith("seeking"), seek_report["settings"]
    # The same frames at the same times, the same faces, the same readings up to rounding.
    ours, reference = by_frame_and_face(rows), by_frame_and_face(seek_rows)
    assert ours.keys() == reference.keys(), sorted(set(ours) ^ set(reference))[:10]
    worst = max(abs(float(ours[key][c] or 0) - float(reference[key][c] or 0)) for key in ours for c in COLUMNS)
    print(f"\n{len(ours)} face rows; largest probability difference WebCodecs vs seeking: {worst:.4f}")
    assert worst <= PROBABILITY_TOLERANCE
    assert [s["key"] for s in report["group_timeline"]] == [s["key"] for s in seek_report["group_timeline"]]


def test_a_portrait_phone_video_is_analysed_upright_both_ways(server, cameras, clips):
    clip = portrait(videos.story(clips, "mp4"), clips / "story-portrait.mp4")
    results = {}
    for decoder in ("webcodecs", "seek"):
        with open_app(server, camera=cameras("coffee"), camera_permission=False,
                      query=f"?backend=wasm&video_decoder={decoder}") as app:
            ready(app)
            results[decoder] = analysed(app, clip)
    (report, rows), (seek_report, seek_rows) = results["webcodecs"], results["seek"]
    assert report["settings"]["decoder"].startswith("WebCodecs"), report["settings"]
    # The browser's <video> (the reference) shows the stored 480x640 frames turned upright, 640x480: both
    # ways agree on the shown size and find the same faces in the same frames.
    assert report["video"]["size"] == seek_report["video"]["size"] == [640, 480], (report["video"], seek_report["video"])
    assert len(seek_report["faces"]) >= 2, seek_report["faces"]
    ours, reference = by_frame_and_face(rows), by_frame_and_face(seek_rows)
    assert ours.keys() == reference.keys(), sorted(set(ours) ^ set(reference))[:10]
    worst = max(abs(float(ours[key][c] or 0) - float(reference[key][c] or 0)) for key in ours for c in COLUMNS)
    assert worst <= PROBABILITY_TOLERANCE
