"""A tile sweep: the detector also looks at overlapping tiles of the frame, for faces too small
for one pass over the whole frame (issue 12, "a person across a hall").

One full-range pass letterboxes a 640x480 frame to 192 px: a face narrower than about 44-52 px
then covers too few input pixels to be found (tests/parity/measure_smallest_face.py). A tile of
352x272 drawn at 192 px gives every face 1.8x the pixels; with the 2x2 tiles the full-range model
finds the astronaut's face from 20 px (tests/parity/measure_tiled_pass.py, docs/using.md "Near and far; groups").

The sweep costs nothing per detector run: runs alternate between the whole frame and the next
tile (whole, tile 0, whole, tile 1, ...), so a tile is seen every 2 x len(tiles) runs and the whole
frame every second run. What each run may say about a tracked face (`covers`):

  step  run              finds                                     may drop a track that is
  1.    whole frame      every face (faces below the small-face     at least `small_face_px` wide
                         line are found only sometimes)             (a smaller one is the tiles' to see)
  2.    tile (x, y, w, h) faces narrower than `small_face_px`,      narrower than `small_face_px` and
                         wholly inside the tile, away from its      wholly inside the tile
                         inner edges (a cut face is not a face)

Tiles overlap by `small_face_px`, so every face narrower than that lies wholly inside at least
one tile. Boxes are (N, 4) xyxy frame pixels throughout; a tile's detections come out of the
detector's post-processing in tile pixels and are moved by the tile's origin.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .result import Detections

__all__ = ["TileConfig", "Tile", "tile_grid", "from_tile", "DetectorSweep"]


@dataclass(frozen=True)
class TileConfig:
    """grid: (columns, rows) of tiles. small_face_px: the overlap between neighbouring tiles and the
    width under which a face is the tiles' to find, as a fraction of the frame's long side
    (0.1: 64 px in 640x480, above the one-pass line of 44-52 px)."""

    grid: tuple[int, int] = (2, 2)
    small_face_fraction: float = 0.1
    edge_px: float = 2.0          # a detection this close to a tile's inner edge is a cut face

    def __post_init__(self) -> None:
        if min(self.grid) < 1 or max(self.grid) > 4:
            raise ValueError(f"grid must be 1-4 tiles each way, got {self.grid}")
        if not 0.0 < self.small_face_fraction < 0.5:
            raise ValueError(f"small_face_fraction must be in (0, 0.5), got {self.small_face_fraction}")

    def small_face_px(self, frame_width: float, frame_height: float) -> float:
        return self.small_face_fraction * max(frame_width, frame_height)


@dataclass(frozen=True)
class Tile:
    """A rectangle of the frame (frame pixels): origin (x, y), size (width, height)."""

    x: float
    y: float
    width: float
    height: float

    def holds(self, boxes: np.ndarray) -> np.ndarray:
        """(N,) True where a box (N, 4) lies wholly inside the tile."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return ((b[:, 0] >= self.x) & (b[:, 1] >= self.y)
                & (b[:, 2] <= self.x + self.width) & (b[:, 3] <= self.y + self.height))


def tile_grid(frame_width: float, frame_height: float, config: TileConfig) -> tuple[Tile, ...]:
    """Whole-pixel tiles covering the frame, `config.grid` of them, neighbours overlapping by
    small_face_px (640x480, 2x2: four 352x272 tiles at x 0/288, y 0/208)."""
    overlap = math.ceil(config.small_face_px(frame_width, frame_height))
    cols, rows = config.grid
    w = min(frame_width, math.ceil((frame_width + (cols - 1) * overlap) / cols))
    h = min(frame_height, math.ceil((frame_height + (rows - 1) * overlap) / rows))
    xs = [0.0] if cols == 1 else [round(i * (frame_width - w) / (cols - 1)) for i in range(cols)]
    ys = [0.0] if rows == 1 else [round(j * (frame_height - h) / (rows - 1)) for j in range(rows)]
    return tuple(Tile(float(x), float(y), float(w), float(h)) for y in ys for x in xs)


def from_tile(det: Detections, tile: Tile, frame_size: tuple[float, float], small_face_px: float,
              edge_px: float = 2.0) -> Detections:
    """A tile run's detections (tile pixels) -> frame pixels, keeping only small whole faces.

    Kept: narrower than small_face_px (a larger face is the whole-frame pass's, and a tile may
    show only part of it), and clear of the tile's inner edges by edge_px (an edge that is also
    the frame's edge cuts nothing)."""
    shift = np.array([tile.x, tile.y], dtype=np.float32)
    boxes = det.boxes + np.tile(shift, 2)                                  # (N, 4) frame px
    keypoints = det.keypoints + shift                                      # (N, K, 2) frame px
    fw, fh = frame_size
    lo_x = tile.x + edge_px if tile.x > 0 else -np.inf
    lo_y = tile.y + edge_px if tile.y > 0 else -np.inf
    hi_x = tile.x + tile.width - edge_px if tile.x + tile.width < fw else np.inf
    hi_y = tile.y + tile.height - edge_px if tile.y + tile.height < fh else np.inf
    keep = ((boxes[:, 2] - boxes[:, 0] < small_face_px)
            & (boxes[:, 0] >= lo_x) & (boxes[:, 1] >= lo_y) & (boxes[:, 2] <= hi_x) & (boxes[:, 3] <= hi_y))
    return det.with_coordinates(boxes, keypoints).filter(keep)


class DetectorSweep:
    """Which part of the frame the next detector run looks at: None (the whole frame) or a Tile.

    Runs alternate: whole, tile 0, whole, tile 1, ... The tiles follow the frame size."""

    def __init__(self, config: TileConfig) -> None:
        self.config = config
        self._runs = 0
        self._tiles: tuple[Tile, ...] = ()
        self._size: tuple[float, float] | None = None

    def tiles(self, frame_width: float, frame_height: float) -> tuple[Tile, ...]:
        if self._size != (frame_width, frame_height):
            self._size = (frame_width, frame_height)
            self._tiles = tile_grid(frame_width, frame_height, self.config)
        return self._tiles

    def next_region(self, frame_width: float, frame_height: float) -> Tile | None:
        """The region of the next run (call once per detector run)."""
        tiles = self.tiles(frame_width, frame_height)
        run, self._runs = self._runs, self._runs + 1
        if run % 2 == 0:
            return None
        return tiles[(run // 2) % len(tiles)]

    def covers(self, region: Tile | None, boxes: np.ndarray, frame_width: float, frame_height: float) -> np.ndarray:
        """(N,) True where a run over `region` can tell whether the face of box (N, 4) is still there
        (a track it does not cover is neither refreshed nor counted as missed by that run)."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        small = (b[:, 2] - b[:, 0]) < self.config.small_face_px(frame_width, frame_height)
        if region is None:
            return ~small
        return small & region.holds(b)
