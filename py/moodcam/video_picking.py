"""Which decoded video frames to analyse, and at which media time: FramePicker.

A video decoded frame by frame (browser.video_decoding) yields every frame once, in presentation
order, each with its own time p_i. The analysis wants frames at sample times t_k = k / N
(video_report.sample_times). The frame a <video> shows at time t is the last one with p_i <= t,
so frame i stands for every t in [p_i, p_{i+1}); times before the first frame show the first one.

The picker answers each frame only when the next one (or the end) is known, since only then is
its interval known. A frame is analysed once, at the first sample time it stands for (with more
samples per second than frames, the other times of its interval are skipped, not analysed twice);
a frame that stands for no sample time is dropped. Pure, so CPython tests it (tests/core).
"""
from __future__ import annotations

import math
from typing import Iterator

# Frame times come from microsecond timestamps and sample times from k / N: a sample time this
# close to a frame's time belongs to that frame, not to the one before.
SAME_TIME_S = 1e-4


class FramePicker:
    """offer(p) for each frame in presentation order, then finish(); each answers for the frame before."""

    def __init__(self, sample_times: Iterator[float]) -> None:
        self._times = sample_times
        self._due: float | None = next(sample_times, None)   # the next sample time no frame has taken
        self._held: float | None = None                      # the time of the frame waiting for its answer

    def offer(self, frame_time: float) -> float | None:
        """A new frame: the media time at which to analyse the frame offered before it, or None to drop
        that one (None for the first frame, which has no frame before it). The new frame is held."""
        held, self._held = self._held, float(frame_time)
        if held is None:
            return None
        return self._take_before(float(frame_time))

    def finish(self) -> float | None:
        """The end of the video: the time to analyse the last frame offered at, or None to drop it."""
        if self._held is None:
            return None
        self._held = None
        return self._take_before(math.inf)

    @property
    def done(self) -> bool:
        """No sample time is left: the rest of the video need not be decoded."""
        return self._due is None

    def _take_before(self, end: float) -> float | None:
        """The first due sample time before `end` (the held frame's), every other one before it skipped."""
        due = self._due
        if due is None or due >= end - SAME_TIME_S:
            return None
        while self._due is not None and self._due < end - SAME_TIME_S:
            self._due = next(self._times, None)
        return due
