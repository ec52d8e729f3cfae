"""Demuxers for the video path (issue 28): MP4/MOV and WebM/Matroska files into VideoDecoder's input.

    demuxed = await open_video(read, size)      # read(offset, length) -> bytes, shorter at the end
    demuxed.track                               # VideoTrack: codec string, description, size, duration
    async for sample in demuxed.samples():      # EncodedSample in decode order: time_s, duration_s, key, data
        ...
    demuxed.stopped_s                           # None: the file was whole; else where a cut file's data ran out

The container is told by the file's first bytes, not its name. Anything that cannot be demuxed here
(another container, a fragmented MP4, an unknown codec) raises UnsupportedVideo naming it, so the
caller can fall back to the <video> element. Pure stdlib (no js, pyodide or numpy): the same code
runs in CPython's tests and in the browser's engine.
"""
from __future__ import annotations

from .mp4 import open_mp4
from .types import Demuxed, EncodedSample, Read, UnsupportedVideo, VideoTrack
from .webm import open_webm

__all__ = ["Demuxed", "EncodedSample", "Read", "UnsupportedVideo", "VideoTrack", "open_video", "sniff"]

MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp", b"moof"}
# Well-known magic numbers, to name what a file is when it is not a video this reads.
OTHER_FORMATS = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
                 (b"RIFF", "a RIFF file (AVI, WAV or WebP)"), (b"OggS", "an Ogg file"), (b"FLV", "an FLV file"),
                 (b"\x00\x00\x01\xba", "an MPEG program stream"), (b"\x47", "an MPEG transport stream"))


def sniff(head: bytes) -> str:
    """"mp4" or "webm" from a file's first 12 bytes; UnsupportedVideo naming anything else."""
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[4:8] in MP4_BOXES:
        return "mp4"
    for magic, name in OTHER_FORMATS:
        if head.startswith(magic):
            raise UnsupportedVideo(f"{name}, not an MP4 or WebM video")
    raise UnsupportedVideo("not an MP4 or WebM video (its first bytes match neither)" if head else "an empty file")


async def open_video(read: Read, size: int) -> Demuxed:
    """The file's first video track and a streaming pass over its samples; UnsupportedVideo when it cannot."""
    container = sniff(bytes(await read(0, 12)) if size > 0 else b"")
    if container == "webm":
        return await open_webm(read, size)
    return await open_mp4(read, size)
