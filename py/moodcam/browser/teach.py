"""Teach mode's collection session: which frames of the tracked face are kept for each mood.

Pure Python + numpy (no js), so the rules are tested in CPython (tests/browser_logic).
The person picks the moods to teach; for each one they show it and press Record, and the
ring fills while *usable* frames arrive (time with a steady single face, not wall time:
the ring waits while the face is gone). Every camera frame seen while recording is either
kept (its feature vector and the generic net's own probabilities are collected) or skipped
for one reason, counted and shown:

- no_face:  no readable face in the frame (none found, or only faces too far to read);
- several:  more than one face: whose expression it is would be a guess;
- moving:   the tracked face moved since the previous frame: its box centre moved, or its
            width changed, by more than MOVE_LIMIT face widths per second (measured on the
            tracked box between consecutive frames; a face seen for the first time, or a
            different face id than the previous frame's, counts as moving: there is nothing
            to measure against yet);
- not_read: one steady face, but the emotion net did not read it this frame (teach mode asks
            for a read on every frame, so this is rare: the first frame of a new track).

A recording ends when RECORD_MS of kept time and at least MIN_SAMPLES frames are collected.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..pipeline import FrameResult

RECORD_MS = 3000.0        # kept time per mood ("show it for about 3 s")
MIN_SAMPLES = 8           # frames per mood the fit needs at least (cross-validation splits them)
MOVE_LIMIT = 0.5          # face widths per second (centre shift or width change): faster is "moving"
MAX_STEP_MS = 200.0       # one kept frame adds at most this to the ring (a stall does not fill it)
MIN_STEP_MS = 1000.0 / 60  # movement is measured over at least this (two frames close together)

# Taught in this order (calm first: people find it easiest to start from a neutral face).
TEACH_ORDER = ("neutral", "happy", "sad", "surprise", "angry", "fear", "disgust")
DEFAULT_MOODS = ("neutral", "happy", "sad", "surprise")
SKIP_REASONS = ("no_face", "several", "moving", "not_read")


@dataclass(frozen=True)
class TeachFace:
    """One tracked face as teach mode sees it (source pixels).

    features: (D,) the emotion net's penultimate features when it read this face this
        frame, else None; generic: (C,) the net's own probabilities for the same read.
    """

    id: int
    box: np.ndarray                     # (4,) xyxy
    readable: bool = True
    features: np.ndarray | None = None  # (D,)
    generic: np.ndarray | None = None   # (C,)


@dataclass
class MoodTake:
    """What was collected for one mood."""

    mood: str
    kept_ms: float = 0.0
    features: list[np.ndarray] = field(default_factory=list)    # each (D,)
    generic: list[np.ndarray] = field(default_factory=list)     # each (C,)
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKIP_REASONS, 0))

    @property
    def kept(self) -> int:
        return len(self.features)

    @property
    def progress(self) -> float:
        """0..1: the ring's fill, kept time over RECORD_MS (held short of full until MIN_SAMPLES)."""
        return float(min(1.0, self.kept_ms / RECORD_MS, self.kept / MIN_SAMPLES))

    @property
    def done(self) -> bool:
        return self.kept_ms >= RECORD_MS and self.kept >= MIN_SAMPLES


def box_speed(previous: np.ndarray, current: np.ndarray, dt_ms: float) -> float:
    """Face widths per second: the larger of the centre's shift and the width's change."""
    w = max(float(previous[2] - previous[0]), 1.0)
    shift = np.hypot((current[0] + current[2] - previous[0] - previous[2]) / 2,
                     (current[1] + current[3] - previous[1] - previous[3]) / 2)
    grow = abs(float(current[2] - current[0]) - w)
    return float(max(shift, grow) / w / (max(dt_ms, MIN_STEP_MS) / 1000.0))


def skip_reason(faces: Sequence[TeachFace], previous: tuple[int, np.ndarray, float] | None,
                t_ms: float) -> str | None:
    """Why this frame is not kept (a SKIP_REASONS value), or None to keep it.

    `previous`: (face id, box, timestamp) of the single face in the frame before, or None."""
    readable = [f for f in faces if f.readable]
    if not readable:
        return "no_face"
    if len(faces) > 1:
        return "several"
    face = readable[0]
    if previous is None or previous[0] != face.id:
        return "moving"
    if box_speed(previous[1], face.box, t_ms - previous[2]) > MOVE_LIMIT:
        return "moving"
    if face.features is None or face.generic is None:
        return "not_read"
    return None


class TeachError(ValueError):
    """A teach request that cannot be carried out (the message says what to do)."""


class TeachSession:
    """The moods to teach, the one being recorded, and what was kept for each.

    States: "ready" (waiting for Record on the current mood), "recording", "complete"
    (every mood recorded: fit and review)."""

    def __init__(self, moods: Sequence[str], labels: Sequence[str]) -> None:
        chosen = [m for m in TEACH_ORDER if m in set(moods)] + [m for m in labels if m in set(moods)
                                                                 and m not in TEACH_ORDER]
        unknown = sorted(set(moods) - set(labels))
        if unknown:
            raise TeachError(f"unknown moods {unknown}; choose among {', '.join(labels)}")
        if len(chosen) < 2:
            raise TeachError("Pick at least two moods to teach: a calibration tells moods apart.")
        self.moods = tuple(chosen)
        self.takes = [MoodTake(m) for m in self.moods]
        self.index = 0
        self.state = "ready"
        self._previous: tuple[int, np.ndarray, float] | None = None

    @property
    def current(self) -> MoodTake:
        return self.takes[min(self.index, len(self.takes) - 1)]

    def record(self) -> None:
        if self.state != "ready":
            raise TeachError(f"cannot record while {self.state}")
        self.takes[self.index] = MoodTake(self.current.mood)      # a fresh take
        self.state = "recording"

    def observe(self, faces: Sequence[TeachFace], t_ms: float) -> str | None:
        """One camera frame: keep it or count why not (while recording); returns the skip reason."""
        reason = skip_reason(faces, self._previous, t_ms)
        dt = t_ms - self._previous[2] if self._previous is not None else 0.0
        single = [f for f in faces if f.readable]
        self._previous = (single[0].id, np.asarray(single[0].box, float), t_ms) if len(faces) == 1 and single else None
        if self.state != "recording":
            return reason
        take = self.current
        if reason is not None:
            take.skipped[reason] += 1
            return reason
        face = single[0]
        take.features.append(np.asarray(face.features, dtype=np.float32))
        take.generic.append(np.asarray(face.generic, dtype=np.float32))
        take.kept_ms += min(max(dt, 0.0), MAX_STEP_MS)
        if take.done:
            self.index += 1
            self.state = "complete" if self.index >= len(self.takes) else "ready"
        return None

    def samples(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(features (N, D), labels (N,), generic probabilities (N, C)) of every kept frame."""
        if self.state != "complete":
            raise TeachError("not every mood is recorded yet")
        features = np.stack([f for t in self.takes for f in t.features])
        labels = [t.mood for t in self.takes for _ in t.features]
        generic = np.stack([g for t in self.takes for g in t.generic])
        return features, labels, generic

    def skipped_total(self) -> dict[str, int]:
        return {r: sum(t.skipped[r] for t in self.takes) for r in SKIP_REASONS}


def teach_faces(result: FrameResult) -> list[TeachFace]:
    """The frame's faces as teach mode needs them: features only for faces the net read this frame."""
    read = set(result.emotion_face_ids)
    out = []
    for face in result.faces:
        fresh = face.id in read           # FaceView.features / net_probabilities are this frame's run only
        out.append(TeachFace(face.id, np.asarray(face.box, float), face.readable,
                             face.features if fresh else None, face.net_probabilities if fresh else None))
    return out
