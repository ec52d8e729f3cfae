"""One video frame analysed, whichever way it was decoded: FrameAnalysis (for browser.video's VideoFlow).

A frame's picture (a VideoFrame decoded here, or the page's ImageBitmap after a seek) is drawn once
into a CPU canvas ("work", willReadFrequently: the nets' inputs are read from it, and a decoded
frame may be GPU memory that each net's draw would read back again), then runs through the
FrameRunner at its media time (timestamp_ms = media time: the tracker, the votes and the mood's
dwell run on the video's clock). Its faces go into the report as compact rows (no frame is kept),
its faces' thumbnails are offered, and a few times a second the preview and the progress are shown.
"""
from __future__ import annotations

import math
import time
from typing import Any

from ..mood.timeline import timeline_key
from ..video_report import FaceRow, VideoReport, progress_text
from .flow import FrameFlow
from .interop import new_canvas, now_ms
from .runner import FrameInput, FrameJob
from .video_thumbs import FaceThumbnails
from .video_view import VideoView

PROGRESS_EVERY_S = 0.25   # wall seconds between progress updates


def face_rows(job: FrameJob) -> list[FaceRow]:
    """The report's rows of one analysed frame (its FrameResult's faces)."""
    result = job.result
    read = set(result.emotion_face_ids)
    return [FaceRow(f.id, _box(f.box), float(f.score), f.probabilities, f.id in read, f.label) for f in result.faces]


def _box(box: Any) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return x0, y0, x1, y1


def mood_key(job: FrameJob) -> str:
    snap = job.result.mood
    return timeline_key(snap.state, snap.mood)


class FrameAnalysis:
    """draw(picture) then analyse(media time), once per frame, for one report at one analysed size."""

    def __init__(self, flow: FrameFlow, view: VideoView, report: VideoReport, size: tuple[int, int]) -> None:
        self._flow, self._view, self._report, self._size = flow, view, report, size
        self.work, self._context = new_canvas(*size, read_often=True)
        still = flow.photo.still
        still.width, still.height = size
        self._preview = still.getContext("2d")
        self._thumbnails = FaceThumbnails(report, size)
        self._started = time.perf_counter()
        self._shown_at = 0.0

    def draw(self, picture: Any, rotation: int = 0) -> None:
        """The frame's picture into the work canvas at the analysed size, turned `rotation` degrees
        clockwise (a decoded frame of a phone's portrait video comes as stored; the caller closes it)."""
        context, (width, height) = self._context, self._size
        if not rotation:
            context.drawImage(picture, 0, 0, width, height)
            return
        # About the canvas's centre; the picture's own sides are the shown ones swapped for a quarter turn.
        stored_w, stored_h = (height, width) if rotation in (90, 270) else (width, height)
        context.save()
        context.translate(width / 2, height / 2)
        context.rotate(math.radians(rotation))
        context.drawImage(picture, -stored_w / 2, -stored_h / 2, stored_w, stored_h)
        context.restore()

    async def analyse(self, time_s: float) -> None:
        """The work canvas's frame through the runner at media time `time_s`; its rows into the report."""
        flow, report, (width, height) = self._flow, self._report, self._size
        frame = FrameInput(self.work, width, height, 1000.0 * time_s, now_ms(), source="video")
        job_done = await flow.runner.run(flow.mode.analyser, frame, flow.presenter)
        rows = face_rows(job_done)
        report.add(time_s, rows, mood_key(job_done))
        self._thumbnails.consider(self.work, rows)
        elapsed = time.perf_counter() - self._started
        if elapsed - self._shown_at >= PROGRESS_EVERY_S:
            self._shown_at = elapsed
            self._preview.drawImage(self.work, 0, 0)     # the picture under the boxes, a few times a second
            done_s = min(report.analysed_s, report.duration_s)
            self._view.progress(done_s / max(report.duration_s, 1e-6),
                                progress_text(done_s, report.duration_s, elapsed))
