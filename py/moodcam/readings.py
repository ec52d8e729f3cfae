"""Emotion readings FrameLogic cannot vote on: the check, and the events that say so.

A reading is one run of the emotion net on one face: its probabilities (classes,) and, when
given, its penultimate features (D,). A bad one (NaN from a GPU driver, say) must not end the
camera loop, and must not be fed to a Voter (whose ``feed`` refuses it) or smoothed into the
face's vote for ever after: FrameLogic skips that face's vote for that frame and says so with a
``ReadingSkipped`` event. A calibration head whose output is not finite for a good reading is
switched off (``CalibrationDropped``): the generic net reads from then on, and the page tells the
person why. Pure Python + numpy; nothing here reads a clock.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration_head import FEATURE_LIMIT
from .mood.state import Event

__all__ = ["reading_problem", "ReadingSkipped", "CalibrationDropped", "PROBABILITY_SLACK", "HEAD_FAILED"]

# The net ends in a softmax: float32 rounding may leave a value a hair outside 0..1, never more.
PROBABILITY_SLACK = 1e-3
HEAD_FAILED = "it gave NaN or infinite moods for a face (its numbers are out of range)"


def reading_problem(probabilities: np.ndarray, features: np.ndarray | None) -> str | None:
    """Why this reading cannot be voted on, or None when it can."""
    p = np.asarray(probabilities, dtype=np.float64)
    # Every frame's readings pass here: one comparison each answers the usual case (NaN and
    # infinities fail every comparison), the reasons below are only worked out for a bad one.
    if ((p >= -PROBABILITY_SLACK) & (p <= 1.0 + PROBABILITY_SLACK)).all() and (
            features is None or (np.abs(np.asarray(features, dtype=np.float64)) <= FEATURE_LIMIT).all()):
        return None
    if not np.isfinite(p).all():
        return "the emotion net's output held NaN or infinite values"
    if ((p < -PROBABILITY_SLACK) | (p > 1.0 + PROBABILITY_SLACK)).any():
        return "the emotion net's output held values outside 0..1"
    if features is not None:
        f = np.asarray(features, dtype=np.float64)
        if not np.isfinite(f).all():
            return "the emotion net's features held NaN or infinite values"
        # Past float32's range a head's proof of finite output (calibration_head.unbounded_output) ends.
        if (np.abs(f) > FEATURE_LIMIT).any():
            return "the emotion net's features held values beyond its float32 range"
    return None


@dataclass(frozen=True)
class ReadingSkipped(Event):
    """One face's reading this frame was not voted on (``reason`` says why); the face keeps its vote."""

    face_id: int
    reason: str

    @property
    def kind(self) -> str:
        return "reading_skipped"


@dataclass(frozen=True)
class CalibrationDropped(Event):
    """The calibration head failed on a good reading and was switched off: the generic net reads now."""

    reason: str

    @property
    def kind(self) -> str:
        return "calibration_dropped"
