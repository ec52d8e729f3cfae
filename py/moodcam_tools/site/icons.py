"""The app's icons, drawn by the site build from app/manifest.webmanifest's "icons" list.

Each listed icon is drawn here (numpy, no image library) and written as a PNG at its "src":
the same pixels on every machine, nothing binary in git, and the manifest is the one list of
what exists. The picture is moodcam's own: the page's dark background, the mood frame (a
rounded ring in the accent colour) and a smiling face inside it.

- purpose "any": a rounded square on a transparent background;
- purpose "maskable": the background fills the square and the picture sits inside the safe
  zone (the centred circle of 80 % of the size), so a launcher may cut any shape out of it.
"""
from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BuildError

# The page's colours (app/style.css :root): --bg, --accent, --fg.
BACKGROUND = (0x10, 0x12, 0x14)
FRAME = (0x56, 0xB4, 0xE9)
FACE = (0xF2, 0xF2, 0xF2)

PURPOSES = ("any", "maskable")
SIZES = (192, 512)
# The drawing's farthest point from the centre is about 0.92 (in units of half the icon); a
# maskable icon keeps it inside the safe zone's radius of 0.8.
MASKABLE_SCALE = 0.84


@dataclass(frozen=True)
class IconSpec:
    src: str            # relative to the manifest
    size: int
    purpose: str


def icon_specs(manifest: dict) -> list[IconSpec]:
    """The manifest's icons, each checked to be one this module can draw."""
    specs = []
    for entry in manifest.get("icons", []):
        src, sizes, purpose = entry.get("src", ""), entry.get("sizes", ""), entry.get("purpose", "any")
        size = int(sizes.split("x")[0]) if sizes.count("x") == 1 and sizes.split("x")[0].isdigit() else 0
        if sizes != f"{size}x{size}" or size not in SIZES or purpose not in PURPOSES \
                or entry.get("type") != "image/png" or not src.endswith(".png") or src.startswith(("/", ".")):
            raise BuildError(f"app/manifest.webmanifest lists an icon the build cannot draw: {entry}",
                             expected=f"sizes one of {[f'{s}x{s}' for s in SIZES]}, purpose one of {PURPOSES}, "
                                      "type image/png, src a relative .png path under app/",
                             fix="correct the entry in app/manifest.webmanifest")
        specs.append(IconSpec(src, size, purpose))
    return specs


def _coverage(distance: np.ndarray, pixel: float) -> np.ndarray:
    """Antialiased coverage (0..1) of a shape from its signed distance (negative inside)."""
    return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def _rounded_square(x: np.ndarray, y: np.ndarray, half: float, radius: float) -> np.ndarray:
    qx, qy = np.abs(x) - (half - radius), np.abs(y) - (half - radius)
    outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
    return outside + np.minimum(np.maximum(qx, qy), 0.0) - radius


def _smile(x: np.ndarray, y: np.ndarray, radius: float, width: float, spread: float) -> np.ndarray:
    """An arc below the centre (y grows downwards), `spread` radians either side, round ends."""
    angle = np.arctan2(x, y)                          # 0 straight down
    on_arc = np.abs(np.hypot(x, y) - radius)
    ends = [np.hypot(x - side * radius * np.sin(spread), y - radius * np.cos(spread)) for side in (-1, 1)]
    return np.where(np.abs(angle) <= spread, on_arc, np.minimum(*ends)) - width / 2


def draw_icon(size: int, purpose: str) -> np.ndarray:
    """(size, size, 4) uint8 RGBA pixels of the icon."""
    pixel = 2.0 / size
    centres = (np.arange(size) + 0.5) * pixel - 1.0
    x, y = np.meshgrid(centres, centres)
    scale = MASKABLE_SCALE if purpose == "maskable" else 1.0
    background = np.ones_like(x) if purpose == "maskable" else _coverage(_rounded_square(x, y, 1.0, 0.36), pixel)
    u, v, p = x / scale, y / scale, pixel / scale
    ring = np.abs(_rounded_square(u, v, 0.74, 0.32) + 0.065) - 0.065
    eyes = np.minimum(np.hypot(u - 0.2, v + 0.14), np.hypot(u + 0.2, v + 0.14)) - 0.075
    face = np.minimum(eyes, _smile(u, v + 0.04, 0.3, 0.085, 0.95))
    rgb = np.empty(x.shape + (3,))
    rgb[:] = BACKGROUND
    for colour, distance in ((FRAME, ring), (FACE, face)):
        alpha = _coverage(distance, p)[..., None]
        rgb = rgb * (1 - alpha) + np.array(colour, dtype=float) * alpha
    rgba = np.dstack([rgb, background * 255.0])
    return np.round(rgba).astype(np.uint8)


def png_bytes(rgba: np.ndarray) -> bytes:
    """An 8-bit RGBA PNG of `rgba` (rows unfiltered, zlib level 9)."""
    height, width = rgba.shape[:2]
    rows = np.hstack([np.zeros((height, 1), np.uint8), rgba.reshape(height, width * 4)])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
            + chunk(b"IEND", b""))


def write_icons(manifest_path: Path) -> list[Path]:
    """Draw every icon `manifest_path` lists, beside it; return the files written."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise BuildError(f"{manifest_path} could not be read as JSON: {error}",
                         fix="restore app/manifest.webmanifest from git") from None
    written = []
    for spec in icon_specs(manifest):
        path = manifest_path.parent / spec.src
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes(draw_icon(spec.size, spec.purpose)))
        written.append(path)
    return written
