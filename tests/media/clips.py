"""Clips for the demuxer tests, made by ffmpeg, and ffprobe's packet list as the reference.

Each clip is small (320x240, 2 s, moving test pattern so that libx264 uses B-frames and the
reordering shows) unless it reuses the e2e fixtures' stills (tests/fixtures/videos.py `clip`).
ffprobe is the independent reference: its packets come in file (decode) order, its pts_time has
the MP4 edit list applied, and `-show_data_hash MD5` hashes each packet's bytes.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from moodcam.media import Demuxed, EncodedSample, open_video
from tests.fixtures import videos
from tests.fixtures.cameras import FFMPEG

FFPROBE = str(Path(FFMPEG).with_name("ffprobe"))
PATTERN = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2"]
AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "2"]
X264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
# name: ffmpeg arguments between the inputs and the output (the output's suffix picks the muxer).
RECIPES: dict[str, list[str]] = {
    "h264_faststart.mp4": PATTERN + AUDIO + X264 + ["-c:a", "aac", "-movflags", "+faststart"],
    "h264_moov_end.mp4": PATTERN + AUDIO + X264 + ["-c:a", "aac"],
    "h264.mov": PATTERN + X264,
    "h264.mkv": PATTERN + AUDIO + X264 + ["-c:a", "libopus"],
    "vp8.webm": PATTERN + AUDIO + ["-c:v", "libvpx", "-b:v", "500k", "-c:a", "libvorbis"],
    "vp9.webm": PATTERN + AUDIO + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
    "vp9_10bit.webm": PATTERN + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                                 "-pix_fmt", "yuv420p10le"],
    "vp9_live.webm": PATTERN + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-live", "1"],
    "hevc.mp4": PATTERN + ["-c:v", "libx265", "-x265-params", "log-level=none", "-tag:v", "hvc1", "-pix_fmt", "yuv420p"],
    "av1.mp4": PATTERN + ["-c:v", "libsvtav1", "-preset", "12", "-pix_fmt", "yuv420p"],
    "av1.webm": PATTERN + ["-c:v", "libsvtav1", "-preset", "12", "-pix_fmt", "yuv420p"],
    # 6 s at 8 Mbit/s (~6 MB): several read-ahead windows' worth, for the streaming tests
    "big.mp4": ["-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30", "-t", "6"] + X264 + [
        "-preset", "ultrafast", "-b:v", "8M"],
    "fragmented.mp4": PATTERN + X264 + ["-movflags", "frag_keyframe+empty_moov"],
}
STILLS = (("no_face", 1.0), ("smiling", 1.0))        # the e2e stills: story.mp4 / story.webm's first seconds


def make(folder: Path, name: str) -> Path:
    """The named clip in `folder`, encoded once."""
    out = folder / name
    if name.startswith("stills."):
        return videos.clip(STILLS, out)
    if name == "big.mkv" and not out.exists():       # big.mp4's stream remuxed (encoding VP8 at 8 Mbit/s is slow)
        subprocess.run([FFMPEG, "-loglevel", "error", "-y", "-i", str(make(folder, "big.mp4")), "-c", "copy", str(out)],
                       check=True)
    if not out.exists():
        subprocess.run([FFMPEG, "-loglevel", "error", "-y", *RECIPES[name], str(out)], check=True)
    return out


@dataclass(frozen=True)
class Packet:
    time_s: float           # pts_time minus the stream's start_time
    duration_s: float | None
    size: int
    key: bool
    pos: int
    md5: str


def probe(path: Path) -> tuple[list[Packet], dict]:
    """ffprobe's video packets in file order, and its stream entry (start_time, width, profile, level...)."""
    out = subprocess.run([FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_packets", "-show_streams",
                          "-show_data_hash", "MD5", "-show_data", "-show_entries",
                          "packet=pts_time,duration_time,size,flags,pos,data_hash:stream", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    stream = report["streams"][0]
    start = float(stream.get("start_time", 0.0))
    packets = [Packet(float(p["pts_time"]) - start,
                      float(p["duration_time"]) if "duration_time" in p else None,
                      int(p["size"]), "K" in p["flags"], int(p.get("pos", -1)), p["data_hash"].split(":")[1])
               for p in report["packets"]]
    return packets, stream


def extradata(stream: dict) -> bytes:
    """The stream's extradata (ffmpeg's copy of avcC, hvcC or av1C) from ffprobe's hex dump (`-show_data`)."""
    lines = stream.get("extradata", "").strip().splitlines()
    return b"".join(bytes.fromhex(line[10:49].replace(" ", "")) for line in lines)


def file_reader(path: Path, reads: list[tuple[int, int]] | None = None):
    """An async read(offset, length) over a file, as the browser's File.slice gives; logs each call in `reads`."""
    async def read(offset: int, length: int) -> bytes:
        if reads is not None:
            reads.append((offset, length))
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(length)
    return read


async def demux_async(path: Path, reads: list[tuple[int, int]] | None = None) -> tuple[Demuxed, list[EncodedSample]]:
    demuxed = await open_video(file_reader(path, reads), path.stat().st_size)
    return demuxed, [sample async for sample in demuxed.samples()]


def demux(path: Path, reads: list[tuple[int, int]] | None = None) -> tuple[Demuxed, list[EncodedSample]]:
    return asyncio.run(demux_async(path, reads))


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _vint(data: bytes, at: int) -> tuple[int, int]:
    """(value, length) of the EBML variable-length integer at `at` (RFC 8794 4)."""
    length = 9 - data[at].bit_length()
    return int.from_bytes(data[at:at + length], "big") & ((1 << (7 * length)) - 1), length


def with_unknown_sizes(source: Path, out: Path) -> Path:
    """A copy of a WebM whose Segment and Clusters say "unknown size" (all value bits set, in the same
    number of bytes), as MediaRecorder writes them; every other byte is unchanged."""
    data = bytearray(source.read_bytes())
    header_size, size_length = _vint(data, 4)           # the EBML header (a 4-byte ID), skipped
    at = 4 + size_length + header_size
    segment_id = int.from_bytes(data[at:at + 4], "big")
    assert segment_id == 0x18538067, f"no Segment at {at}"
    size_at = at + 4
    size_length = 9 - data[size_at].bit_length()
    data[size_at:size_at + size_length] = _unknown(size_length)
    at = size_at + size_length
    while at < len(data):
        element_id = int.from_bytes(data[at:at + 4], "big")
        id_length = 9 - data[at].bit_length()
        size, size_length = _vint(data, at + id_length)
        if element_id == 0x1F43B675:
            data[at + id_length:at + id_length + size_length] = _unknown(size_length)
        at += id_length + size_length + size
    out.write_bytes(bytes(data))
    return out


def _unknown(length: int) -> bytes:
    return ((1 << (7 * length + 1)) - 1).to_bytes(length, "big")
