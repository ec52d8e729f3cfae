"""No range to choose (issue 27): the near model on every detector run, the far model's sweep on a
schedule between them.

BlazeFace short range (128 px, "near") finds faces from about 80-96 px in a 640x480 frame and no
false ones; full range (192 px, "far") with its 2x2 tile sweep (moodcam.detection.tiles) finds them
from about 20 px, with false ones that the second look (moodcam.second_look) refuses. Auto: most
detector runs are the near model's on the whole frame; every `far_every`-th is the far model's,
on the whole frame or the sweep's next tile; every `far_every_small`-th while a face narrower than
the near line is tracked (it is the far runs that keep seeing it). A near run only tells about the
faces it can see: a track narrower than the near line is neither refreshed nor missed by it.

Also here: the letterboxes a run needs (the frame or a tile, into either model's input), kept per
region and size, since frames and tiles keep their size from run to run.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .detection.letterbox import Letterbox
from .detection.pipeline import BLAZEFACE_FULL_RANGE_SPEC, DetectorSpec
from .detection.tiles import Tile

__all__ = ["AutoRangeConfig", "AutoRange", "RunLetterboxes"]

Rule = Callable[[np.ndarray], np.ndarray]      # the tracks' boxes (T, 4) -> (T,) bool


@dataclass(frozen=True)
class AutoRangeConfig:
    """far: the far model's spec. far_every / far_every_small: one detector run in this many is the
    far model's (measured cost: docs/using.md "Near and far; groups"). near_fraction: the near model's
    reliable width, a fraction of the frame's long side (0.15: 96 px in 640x480)."""

    far: DetectorSpec = BLAZEFACE_FULL_RANGE_SPEC
    # Every 5th while no small face is tracked: the default's cost stays within 1.3x of near only's
    # (every 3rd measured 1.36-1.43x per frame, bench/README "Auto against near only"); a new small
    # face waits longer to be found (the sweep's four tiles come round in 40 detector runs, not 24).
    far_every: int = 5
    far_every_small: int = 2
    near_fraction: float = 0.15

    def __post_init__(self) -> None:
        if self.far_every < 1 or self.far_every_small < 1:
            raise ValueError(f"far_every and far_every_small must be >= 1, got {self.far_every}, "
                             f"{self.far_every_small}")

    def narrow(self, boxes, frame_width: float, frame_height: float) -> np.ndarray:
        """(N,) True where a box (N, 4) is narrower than the near model's line."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return (b[:, 2] - b[:, 0]) < self.near_fraction * max(frame_width, frame_height)


class AutoRange:
    """Which model the next detector run is: near (False) or far (True)."""

    def __init__(self, config: AutoRangeConfig) -> None:
        self.config = config
        self._since_far = 0            # near runs since the last far one

    def next_is_far(self, small_faces: bool) -> bool:
        """Call once per detector run. small_faces: a face narrower than the near line is tracked."""
        every = self.config.far_every_small if small_faces else self.config.far_every
        if self._since_far + 1 >= every:
            self._since_far = 0
            return True
        self._since_far += 1
        return False

    def near_covers(self, boxes, frame_width: float, frame_height: float) -> np.ndarray:
        """(N,) the tracks a near run can tell about: those at least as wide as its line."""
        return ~self.config.narrow(boxes, frame_width, frame_height)

    def tracking_rules(self, far: bool, frame_width: float, frame_height: float) -> tuple[Rule | None, Rule | None]:
        """(covers, keeps_place) for FaceTracker.update on a near or far run. A near run tells only
        about the faces it can see. A far run never moves a face the near runs track: the far model
        places a box elsewhere (IoU 0.79 on the astronaut), so the box would jump on every far run;
        it adds faces and places the ones too small for the near model."""
        def near_sees(boxes: np.ndarray) -> np.ndarray:
            return self.near_covers(boxes, frame_width, frame_height)
        return (None, near_sees) if far else (near_sees, None)


class RunLetterboxes:
    """Letterbox.fit for a region (the frame or a tile) into a model input, kept per region and size."""

    def __init__(self, round_padding: bool) -> None:
        self.round_padding = round_padding
        self._kept: dict[tuple[Tile, tuple[int, int]], Letterbox] = {}

    def get(self, region: Tile, input_size: tuple[int, int]) -> Letterbox:
        key = (region, (int(input_size[0]), int(input_size[1])))
        lb = self._kept.get(key)
        if lb is None:
            lb = self._kept[key] = Letterbox.fit(region.width, region.height, *input_size,
                                                 round_padding=self.round_padding)
        return lb
