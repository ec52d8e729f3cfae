"""The second look: a small or tile-found face candidate is confirmed before it counts (issue 27).

The far range (BlazeFace full range, whole frame plus a 2x2 tile sweep) finds faces from about
20 px, and with them things that are not faces: a spacesuit, hands, a microphone
(tests/parity/measure_second_look.py). A candidate the near model could not have checked itself
-- narrower than the near model's reliable width, or found only by a tile run -- is looked at
again: the short-range detector (128 px) runs on a square crop around it, `context` times its
width, so the candidate is upscaled to a size that model reads well. The candidate is confirmed
when that run finds a face on it with at least `threshold` (measured: docs/using.md, "Near and
far; groups"); else refused, and a new candidate in the same place is refused without another
look for `refused_memory_ms`. Since the look decides, the far model proposes such candidates from
`propose_min_score` (far_spec_for_looks, far_proposals).

Pure and clock-free: FrameLogic asks `requests` and submits each crop's raw outputs.
Boxes are (4,) or (N, 4) xyxy frame pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .detection.boxes import iou_matrix
from .detection.letterbox import Letterbox
from .detection.pipeline import DetectorSpec
from .detection.result import Detections
from .detection.tiles import Tile

__all__ = ["SecondLookConfig", "LookRequest", "SecondLook", "look_region", "looked_score", "far_spec_for_looks",
           "far_proposals"]


@dataclass(frozen=True)
class SecondLookConfig:
    """reliable_fraction: the near model finds faces at least this wide by itself, as a fraction of
    the frame's long side (0.15: 96 px in 640x480; short range needs 80-96 px there,
    tests/parity/measure_smallest_face.py). context: the crop's side over the candidate's width.
    threshold: the short-range score on the crop that confirms a face. max_per_frame: looks a
    frame may run (the rest wait, unseen, for the next frame)."""

    reliable_fraction: float = 0.15
    # Measured on tests/fixtures/small_faces.py (tests/parity/measure_second_look.py, docs/using.md):
    # contexts 2-4x; the threshold is the lowest that lets at most 1 % of the 342 non-face pieces
    # through when each is looked at as if proposed (0.7 at 4x: 1 of 342; 0.65: 5). With far
    # proposals from 0.3: 70 of 93 true faces, 0 false (the far range alone: 61 and 9 false).
    context: float = 4.0
    threshold: float = 0.7
    # Narrower than this (fraction of the long side: 20 px in 640x480) is below the far range's
    # reach: the only candidates there were flags and badges (15-19 px); refused without a look.
    min_face_fraction: float = 20 / 640
    # The far model proposes from this score a candidate that gets a look (small or tile-found): the
    # look, not the far score, decides, so a weak proposal costs one look and no false face (measured
    # with threshold: docs/using.md). Faces the near model could vouch for keep the person's threshold.
    propose_min_score: float = 0.3
    max_per_frame: int = 2
    refused_memory_ms: float = 3000.0
    refused_iou: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if self.context < 1.0:
            raise ValueError(f"context must be >= 1, got {self.context}")
        if self.max_per_frame < 1:
            raise ValueError(f"max_per_frame must be >= 1, got {self.max_per_frame}")

    def too_small(self, box, frame_width: float, frame_height: float) -> bool:
        b = np.asarray(box, dtype=np.float64).reshape(4)
        return bool(b[2] - b[0] < self.min_face_fraction * max(frame_width, frame_height))

    def needs_look(self, box, frame_width: float, frame_height: float, from_tile: bool) -> bool:
        """A candidate the near model could not vouch for: found by a tile, or narrower than its line."""
        b = np.asarray(box, dtype=np.float64).reshape(4)
        return bool(from_tile or b[2] - b[0] < self.reliable_fraction * max(frame_width, frame_height))


def look_region(box, frame_width: float, frame_height: float, context: float) -> Tile:
    """The square, whole-pixel crop around a candidate that the near model looks at, moved (not cut)
    to lie inside the frame so the face keeps its place in it."""
    b = np.asarray(box, dtype=np.float64).reshape(4)
    side = min(float(np.ceil(context * max(b[2] - b[0], b[3] - b[1]))), frame_width, frame_height)
    side = max(side, 1.0)
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    x = float(np.clip(round(cx - side / 2), 0, frame_width - side))
    y = float(np.clip(round(cy - side / 2), 0, frame_height - side))
    return Tile(x, y, side, side)


def looked_score(candidate_box, boxes: np.ndarray, scores: np.ndarray) -> float:
    """The best score among the look's detections (frame px) that are the candidate: centre inside
    its box, width 0.5-2x its width. 0 when none is."""
    c = np.asarray(candidate_box, dtype=np.float64).reshape(4)
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    ratio = (b[:, 2] - b[:, 0]) / max(c[2] - c[0], 1e-6)
    same = (cx >= c[0]) & (cx <= c[2]) & (cy >= c[1]) & (cy <= c[3]) & (ratio >= 0.5) & (ratio <= 2.0)
    return float(s[same].max()) if same.any() else 0.0


@dataclass(frozen=True)
class LookRequest:
    """Run the near detector on `region` of the frame (letterboxed by `letterbox`) for face `face_id`."""

    face_id: int
    region: Tile
    letterbox: Letterbox

    def to_dict(self) -> dict:
        r = self.region
        return {"face_id": self.face_id, "region": [r.x, r.y, r.width, r.height]}


class SecondLook:
    """Which tracks wait for a look, which are confirmed, and where faces were refused.

    A track is confirmed unless it is waiting: a track admitted without needing a look, and a
    track whose look passed, stay confirmed for their life (no look again)."""

    def __init__(self, config: SecondLookConfig, look_input: tuple[int, int] = (128, 128)) -> None:
        self.config = config
        self.look_input = look_input
        self._waiting: dict[int, np.ndarray] = {}           # face id -> its box when it was found
        self._refused: list[tuple[np.ndarray, float]] = []  # (box, refused until ms)

    def admit(self, face_id: int, box, frame_size: tuple[float, float], from_tile: bool, now_ms: float) -> bool:
        """A new track. False: refuse it at once (a face was refused here a moment ago)."""
        b = np.asarray(box, dtype=np.float64).reshape(4)
        if not self.config.needs_look(b, *frame_size, from_tile):
            return True
        if self.config.too_small(b, *frame_size):
            return False
        self._refused = [(rb, until) for rb, until in self._refused if until > now_ms]
        if self._refused and iou_matrix(b[None], np.array([rb for rb, _ in self._refused])).max() > self.config.refused_iou:
            return False
        self._waiting[face_id] = b
        return True

    def confirmed(self, face_id: int) -> bool:
        return face_id not in self._waiting

    @property
    def waiting(self) -> tuple[int, ...]:
        return tuple(self._waiting)

    def requests(self, boxes: dict[int, np.ndarray], frame_size: tuple[float, float],
                 round_padding: bool) -> tuple[LookRequest, ...]:
        """Looks for this frame, oldest waiting first, at most max_per_frame. boxes: id -> current box."""
        out: list[LookRequest] = []
        for face_id in self._waiting:
            if face_id in boxes and len(out) < self.config.max_per_frame:
                region = look_region(boxes[face_id], *frame_size, self.config.context)
                lb = Letterbox.fit(region.width, region.height, *self.look_input, round_padding=round_padding)
                out.append(LookRequest(face_id, region, lb))
        return tuple(out)

    def decide(self, face_id: int, box, score: float, now_ms: float) -> bool:
        """The look's score for a waiting face: True confirmed, False refused (remembered)."""
        self._waiting.pop(face_id, None)
        if score >= self.config.threshold:
            return True
        self._refused.append((np.asarray(box, dtype=np.float64).reshape(4), now_ms + self.config.refused_memory_ms))
        return False

    def forget(self, face_id: int) -> None:
        self._waiting.pop(face_id, None)

    def reset(self) -> None:
        self._waiting.clear()
        self._refused.clear()


def far_spec_for_looks(far: DetectorSpec, config: SecondLookConfig | None) -> DetectorSpec:
    """The far model's spec as the auto range runs it: with second looks, decoding scores down to
    config.propose_min_score (far_proposals then keeps the weak ones that get a look)."""
    if config is None:
        return far
    return with_min_score(far, min(config.propose_min_score, _min_score(far)))


def far_proposals(det: Detections, config: SecondLookConfig, far: DetectorSpec, frame_size: tuple[float, float],
                  from_tile: bool) -> Detections:
    """A far run's detections that may become faces: those at the far spec's own threshold (the
    person's), and weaker ones only where the second look will decide (small or tile-found)."""
    if not len(det) or from_tile:
        return det
    narrow = (det.boxes[:, 2] - det.boxes[:, 0]) < config.reliable_fraction * max(frame_size)
    return det.filter((det.scores >= _min_score(far)) | narrow)


def _min_score(spec: DetectorSpec) -> float:
    return 0.0 if spec.decode.min_score_thresh is None else float(spec.decode.min_score_thresh)


def with_min_score(spec: DetectorSpec, min_score: float) -> DetectorSpec:
    """The spec keeping scores from min_score (a look must see scores down to its threshold)."""
    return replace(spec, decode=replace(spec.decode, min_score_thresh=min_score), nms=replace(spec.nms, min_score=min_score))
