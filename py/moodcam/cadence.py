"""The nets' cadence follows the device: hold the frame rate, keep the mood's answer in time.

On a slow CPU (a phone) a frame where the detector and the emotion net both run can take
longer than the frame budget, and the picture stutters. CadenceGovernor watches the frame
times the runner measures (camera frames only) and, within bounds, runs the nets less often:

  detect_every   >= the person's setting, <= max_detect_every (tracking holds between runs;
                 a frame with no face tracked runs the detector whatever the cadence);
  emotion_every  >= the person's setting, and never so sparse that a face is read less often
                 than every max_read_interval_ms (half the first dwell: a new face still gets
                 two reads before its first mood can be shown, so the mood's answer bound,
                 moodcam.mood.state.MoodConfig.answer_within_ms, holds with votes behind it).

It predicts a cadence's mean frame time from three moving averages (a frame with no net, the
detector's extra, one emotion read's extra) and picks the busiest cadence that fits the
budget, the detector stretched first. It changes at most every `settle_frames` frames and
goes back to the person's cadence when the device keeps up. Pure Python: no clock, no JS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .mood.state import MoodConfig

EMA = 0.1            # weight of the newest frame in each moving average


@dataclass(frozen=True)
class GovernorConfig:
    target_fps: float = 20.0                         # the frame rate to hold
    max_detect_every: int = 8
    max_read_interval_ms: float = MoodConfig().first_dwell_ms / 2
    settle_frames: int = 30                          # frames between two changes

    @property
    def budget_ms(self) -> float:
        return 1000.0 / self.target_fps


@dataclass(frozen=True)
class Cadence:
    detect_every: int
    emotion_every: int


@dataclass
class FrameCosts:
    """Moving averages of what a frame costs (ms): with no net, and each net's extra."""
    plain_ms: float = 0.0
    detector_ms: float = 0.0
    emotion_ms: float = 0.0

    def observe(self, frame_ms: float, detector_ms: float, emotion_ms: float) -> None:
        self.plain_ms = _ema(self.plain_ms, max(0.0, frame_ms - detector_ms - emotion_ms))
        if detector_ms > 0:
            self.detector_ms = _ema(self.detector_ms, detector_ms)
        if emotion_ms > 0:
            self.emotion_ms = _ema(self.emotion_ms, emotion_ms)

    def predict_ms(self, cadence: Cadence, faces: int) -> float:
        """Mean frame time at this cadence: at most one emotion read a frame (ScheduleConfig's default)."""
        reads_per_frame = min(1.0, faces / cadence.emotion_every) if faces else 0.0
        return self.plain_ms + self.detector_ms / cadence.detect_every + self.emotion_ms * reads_per_frame


def _ema(average: float, value: float) -> float:
    return value if average == 0.0 else (1 - EMA) * average + EMA * value


def max_emotion_every(config: GovernorConfig, frame_interval_ms: float, faces: int) -> int:
    """The sparsest emotion cadence that still reads each face every max_read_interval_ms."""
    if frame_interval_ms <= 0:
        return 1
    # A face is read every max(emotion_every, faces) frames (one read a frame, faces in turn).
    return max(1, math.floor(config.max_read_interval_ms / frame_interval_ms))


def choose_cadence(costs: FrameCosts, person: Cadence, config: GovernorConfig, frame_interval_ms: float,
                   faces: int) -> Cadence:
    """The busiest cadence (fewest frames between runs) whose predicted frame time fits the budget;
    the detector is stretched before the emotion net. The person's cadence when it fits."""
    emotion_cap = max(person.emotion_every, max_emotion_every(config, frame_interval_ms, faces))
    detect_cap = max(person.detect_every, config.max_detect_every)
    for emotion_every in range(person.emotion_every, emotion_cap + 1):
        for detect_every in range(person.detect_every, detect_cap + 1):
            cadence = Cadence(detect_every, emotion_every)
            if costs.predict_ms(cadence, faces) <= config.budget_ms:
                return cadence
    return Cadence(detect_cap, emotion_cap)            # as light as the bounds allow


class CadenceGovernor:
    def __init__(self, person: Cadence, config: GovernorConfig = GovernorConfig()) -> None:
        self.config = config
        self.person = person
        self.current = person
        self.costs = FrameCosts()
        self._frames = 0
        self._since_change = 0
        self._interval_ms = 0.0

    def set_person(self, person: Cadence) -> None:
        """The person moved a control: their cadence again, then adapt from there."""
        self.person = self.current = person
        self._since_change = 0

    @property
    def adapted(self) -> bool:
        return self.current != self.person

    def observe(self, frame_ms: float, detector_ms: float, emotion_ms: float, frame_interval_ms: float,
                faces: int) -> Cadence | None:
        """One camera frame's times (its total, its nets' parts) and the time since the frame before.
        A new Cadence when it should change now, else None."""
        self.costs.observe(frame_ms, detector_ms, emotion_ms)
        if frame_interval_ms > 0:
            self._interval_ms = _ema(self._interval_ms, frame_interval_ms)
        self._frames += 1
        self._since_change += 1
        if self._since_change < self.config.settle_frames:
            return None
        interval = max(self._interval_ms, self.config.budget_ms)
        chosen = choose_cadence(self.costs, self.person, self.config, interval, faces)
        if chosen == self.current:
            return None
        self.current = chosen
        self._since_change = 0
        return chosen
