"""A face's thumbnail for a video's report (issue 28): which frame, which square, and the PNG.

Pure Python (zlib only): browser.video crops the square from the analysed frame on the device and
hands the pixels here. A face's thumbnail is retaken only when a frame shows it clearly better
(`quality`: the detector's score times how much of the box lies inside the frame, so a face half
out of the picture as it enters gives way to a whole one), at most a few times per face.
"""
from __future__ import annotations

import base64
import struct
import zlib

THUMB_PX = 64          # the thumbnail's side in pixels (shown at 48 CSS px: sharp on a 1.3x screen)
MARGIN = 0.2           # the square reaches this share of the box's side beyond the box on each side
BETTER_BY = 0.05       # a new frame's quality must beat the kept one's by this to be taken instead

Box = tuple[float, float, float, float]      # x0, y0, x1, y1 in analysed-frame pixels


def inside_share(box: Box, frame_size: tuple[int, int]) -> float:
    """The share of the box's area inside the frame (0..1)."""
    x0, y0, x1, y1 = box
    area = max(x1 - x0, 0.0) * max(y1 - y0, 0.0)
    if area <= 0:
        return 0.0
    w, h = frame_size
    inside = max(min(x1, w) - max(x0, 0.0), 0.0) * max(min(y1, h) - max(y0, 0.0), 0.0)
    return inside / area


def quality(box: Box, score: float, frame_size: tuple[int, int]) -> float:
    return float(score) * inside_share(box, frame_size)


def square_crop(box: Box, frame_size: tuple[int, int], margin: float = MARGIN) -> tuple[int, int, int]:
    """(x, y, side): a square around the box with a margin, moved (never squashed) to lie inside the
    frame; no larger than the frame's short side."""
    x0, y0, x1, y1 = box
    w, h = frame_size
    side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * margin)
    side = int(round(min(max(side, 1.0), w, h)))
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    x = int(round(min(max(cx - side / 2.0, 0.0), w - side)))
    y = int(round(min(max(cy - side / 2.0, 0.0), h - side)))
    return x, y, side


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, rgba: bytes) -> bytes:
    """An RGB PNG of `rgba` (width * height * 4 bytes, a canvas's getImageData; alpha dropped)."""
    if len(rgba) != width * height * 4:
        raise ValueError(f"png: {len(rgba)} bytes for {width}x{height} RGBA (needs {width * height * 4})")
    raw = bytearray()
    stride = 4 * width
    for row in range(height):
        line = bytearray(rgba[row * stride:(row + 1) * stride])
        del line[3::4]                                  # RGBA -> RGB
        raw.append(0)                                   # filter: none
        raw += line
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)     # 8 bits, truecolour
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + _chunk(b"IEND", b""))


def png_data_url(width: int, height: int, rgba: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png(width, height, rgba)).decode("ascii")
