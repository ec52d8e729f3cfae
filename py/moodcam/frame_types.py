"""The types of FrameLogic's contract (moodcam.pipeline): its knobs, the frame's plan, the emotion
requests, and the faces and mood to draw. Plain frozen data, kept apart so the state machine in
pipeline.py reads on its own."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .auto_range import AutoRangeConfig
from .detection.letterbox import Letterbox
from .detection.pipeline import BLAZEFACE_SHORT_RANGE_SPEC, DetectorSpec
from .detection.tiles import Tile, TileConfig
from .geometry.crop import CropRegion
from .mood.labels import EMOTIONS
from .mood.state import Event, MoodConfig, MoodSnapshot
from .mood.voting import DEFAULT_VOTING, VotingConfig
from .schedule import ScheduleConfig
from .second_look import SecondLookConfig
from .tracking.tracker import TrackerConfig

__all__ = ["FrameLogicConfig", "FramePlan", "EmotionRequest", "FaceView", "FrameResult"]


@dataclass(frozen=True)
class FrameLogicConfig:
    """Every knob of the per-frame logic, with the app's defaults."""

    detector: DetectorSpec = BLAZEFACE_SHORT_RANGE_SPEC
    schedule: ScheduleConfig = ScheduleConfig()
    tracker: TrackerConfig = TrackerConfig()
    voting: VotingConfig = DEFAULT_VOTING   # measured: docs/mood.md, "How the mood is decided"
    mood: MoodConfig = MoodConfig()
    emotion_labels: tuple[str, ...] = EMOTIONS
    emotion_input_size: int = 64          # the fer model's 64 x 64 input
    crop_margin: float = 0.1              # extra room around the face box, fraction of its long side
    rotate_crops: bool = False            # level the eyes (needs tf.image.transform instead of cropAndResize)
    round_letterbox: bool = False         # whole-pixel letterbox offsets (see Letterbox.fit)
    # Faces narrower than this (source pixels) are tracked, drawn and counted, but not read
    # ("too far to read" on the page): measured (tests/parity/measure_readable_face.py), a face
    # the net reads firmly at full size keeps its label in >= 97 % of frames from 44 px up, and
    # Grace Hopper's drops to 62 % at 40 px; below it the reading is a guess.
    min_readable_face_px: float = 44.0
    # A tile sweep (moodcam.detection.tiles): detector runs alternate between the whole frame and
    # one tile of it, for faces too small for one pass. None: every run sees the whole frame.
    tiles: TileConfig | None = None
    # No range to choose (moodcam.auto_range): `detector` is the near model on most runs, the far
    # model (and the tile sweep above) on a schedule between them. None: `detector` on every run.
    auto_range: AutoRangeConfig | None = None
    # The second look (moodcam.second_look): None counts every detection at once (the near model
    # alone: 0 false faces measured); set, a small or tile-found face is confirmed by `look_detector`
    # (the near model) on a crop around it before it counts.
    second_look: SecondLookConfig | None = None
    look_detector: DetectorSpec = BLAZEFACE_SHORT_RANGE_SPEC


@dataclass(frozen=True)
class FramePlan:
    """What the browser should run this frame."""

    frame_index: int
    timestamp_ms: float
    run_detector: bool
    letterbox: Letterbox  # how to draw the frame into the detector input (scale, padding)
    paused: bool = False  # the page is hidden: run nothing (submissions are ignored)
    # With a tile sweep, the part of the frame this detector run looks at (None: the whole
    # frame) and its own letterbox (the tile, or on a far run the frame, -> the detector input).
    tile: Tile | None = None
    tile_letterbox: Letterbox | None = None
    far: bool = False     # auto range: this run is the far model's (FrameLogicConfig.auto_range.far)

    @property
    def detector_letterbox(self) -> Letterbox:
        """How to draw the detector input: the tile's letterbox on a tile run, else the frame's."""
        return self.tile_letterbox if self.tile_letterbox is not None else self.letterbox


@dataclass(frozen=True)
class EmotionRequest:
    """Crop one tracked face for the emotion net.

    crop: the region in frame pixels (see moodcam.geometry.crop).
    box: [y1, x1, y2, x2] for tf.image.cropAndResize at ``size`` x ``size``;
        None when the crop is rotated.
    transform: the 8 numbers for tf.image.transform (output -> frame pixel),
        valid for rotated and unrotated crops, output ``size`` x ``size``.
    """

    face_id: int
    crop: CropRegion
    size: int
    box: tuple[float, float, float, float] | None
    transform: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"face_id": self.face_id, "size": self.size, "box": None if self.box is None else list(self.box),
                "transform": list(self.transform), "rotation": self.crop.rotation}


@dataclass(frozen=True)
class FaceView:
    """One face as the UI draws it (source pixels).

    id: the track id (stable while the face is tracked).
    box: (4,) xyxy; keypoints: (K, 2); score: the detector's score.
    label: this face's accepted (confident) label from its vote; None while uncertain.
        This is the per-frame vote; the page's mood is ``FrameResult.mood`` (dwell, bound).
    probability: the vote's probability (0 before the first emotion run).
    top_label: raw argmax of the latest emotion output (None before the first run).
    primary: the largest face (drawn first in lists; it breaks ties in the group's mood).
    readable: False when the face is narrower than ``min_readable_face_px``: no emotion is
        read for it ("too far to read"), it still counts as a face.
    probabilities: the smoothed probability vector, one float per class in
        ``FrameResult.labels`` order (7 for the fer net), for bars; None before the
        face's first emotion run. It is the voting strategy's own smoothing (see moodcam.mood.voting).
    leading_label / leading_probability: argmax of ``probabilities`` and its value
        (None / 0.0 before the first emotion run).
    features: (D,) the emotion net's penultimate features from THIS frame's run on the face
        (None when the net did not read it this frame, or gave no features); teach mode
        collects these. Not part of to_dict (it stays in Python).
    net_probabilities: (classes,) the generic net's own output of this frame's run (before
        any calibration), None when the net did not read the face this frame.
    """

    id: int
    box: np.ndarray              # (4,) xyxy
    keypoints: np.ndarray        # (K, 2)
    score: float
    label: str | None            # accepted label; None while uncertain
    probability: float           # the vote's probability (0 before the first emotion run)
    top_label: str | None        # raw argmax of the latest emotion output
    primary: bool                # the largest face
    probabilities: tuple[float, ...] | None = None   # smoothed, in FrameResult.labels order; None before any run
    leading_label: str | None = None          # argmax of probabilities
    leading_probability: float = 0.0          # its value
    readable: bool = True                     # wide enough to read its expression
    features: np.ndarray | None = None        # (D,) this frame's features; None if not read this frame
    net_probabilities: np.ndarray | None = None   # (classes,) this frame's generic output, uncalibrated

    @property
    def uncertain(self) -> bool:
        return self.label is None

    def to_dict(self) -> dict:
        return {"id": self.id, "box": self.box.tolist(), "keypoints": self.keypoints.tolist(),
                "score": self.score, "label": self.label, "uncertain": self.uncertain,
                "probability": self.probability, "top_label": self.top_label, "primary": self.primary,
                "probabilities": None if self.probabilities is None else list(self.probabilities),
                "leading_label": self.leading_label,
                "leading_probability": self.leading_probability, "readable": self.readable}


@dataclass(frozen=True)
class FrameResult:
    """What one frame produced.

    faces: every tracked face (FaceView), the primary one flagged.
    mood: the page's mood (MoodSnapshot): ``state`` is one of "starting", "no_face",
        "observing", "mood", "cant_tell", "paused"; ``mood`` the committed label in "mood";
        ``leading_label`` / ``leading_probability`` the label to name and the primary face's
        smoothed probability of it (the mood in "mood"; the guess in "cant_tell", as in
        "Can't tell, maybe neutral, 54 %"; the current leader in "observing").
        moodcam.mood.presentation.headline(snapshot) writes that line.
    events: what changed this frame (state_changed, mood_changed, guess_changed, face_found,
        face_lost, paused, resumed; reading_skipped and calibration_dropped from moodcam.readings,
        for the page to say), in order.
    labels: the class names, in the order of every FaceView.probabilities.
    calibrated: a calibration head was applied to this frame's emotion outputs (set_calibration).
    """

    frame_index: int
    timestamp_ms: float
    faces: tuple[FaceView, ...]
    mood: MoodSnapshot
    events: tuple[Event, ...]
    ran_detector: bool
    emotion_face_ids: tuple[int, ...]
    labels: tuple[str, ...] = EMOTIONS
    calibrated: bool = False

    def to_dict(self) -> dict:
        """Plain dicts/lists/floats, for ``pyodide.ffi.to_js(..., dict_converter=Object.fromEntries)``."""
        return {
            "frame_index": self.frame_index,
            "timestamp_ms": self.timestamp_ms,
            "faces": [f.to_dict() for f in self.faces],
            "state": self.mood.state,
            "mood": self.mood.mood,
            "state_since_ms": self.mood.since_ms,
            "leading_label": self.mood.leading_label,
            "leading_probability": self.mood.leading_probability,
            "labels": list(self.labels),
            "events": [e.to_dict() for e in self.events],
            "ran_detector": self.ran_detector,
            "emotion_face_ids": list(self.emotion_face_ids),
            "calibrated": self.calibrated,
        }
