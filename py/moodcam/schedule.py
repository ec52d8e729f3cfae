"""When to run the nets: the detector every N frames, the emotion net per face at its own cadence.

Frame indices, not time, drive the schedule so it stays fair whatever the
frame rate. The detector also runs at once whenever no face is tracked (a new
face should not wait N frames to be found). Emotion runs are spread over
frames: at most ``max_emotion_runs_per_frame`` faces per frame, the most
overdue first, a new face before any other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ScheduleConfig", "Scheduler"]


@dataclass(frozen=True)
class ScheduleConfig:
    detector_every_n_frames: int = 3
    emotion_every_n_frames: int = 5
    max_emotion_runs_per_frame: int = 1

    def __post_init__(self) -> None:
        for name in ("detector_every_n_frames", "emotion_every_n_frames", "max_emotion_runs_per_frame"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


class Scheduler:
    """Book-keeping for :class:`ScheduleConfig`; the caller reports what actually ran."""

    def __init__(self, config: ScheduleConfig = ScheduleConfig()) -> None:
        self.config = config
        self._last_detector: int | None = None
        self._last_emotion: dict[int, int] = {}

    def detector_due(self, frame_index: int, has_tracks: bool) -> bool:
        if not has_tracks or self._last_detector is None:
            return True
        return frame_index - self._last_detector >= self.config.detector_every_n_frames

    def detector_ran(self, frame_index: int) -> None:
        self._last_detector = frame_index

    def emotion_due(self, frame_index: int, face_ids) -> list[int]:
        """Face ids to classify this frame, most overdue first (never-classified faces lead)."""
        every = self.config.emotion_every_n_frames
        waiting = []
        for fid in face_ids:
            last = self._last_emotion.get(fid)
            overdue = float("inf") if last is None else frame_index - last - every
            if overdue >= 0:
                waiting.append((-overdue, fid))
        waiting.sort()
        return [fid for _, fid in waiting[: self.config.max_emotion_runs_per_frame]]

    def emotion_ran(self, face_id: int, frame_index: int) -> None:
        self._last_emotion[face_id] = frame_index

    def forget(self, face_id: int) -> None:
        self._last_emotion.pop(face_id, None)
