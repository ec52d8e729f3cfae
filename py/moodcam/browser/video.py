"""A video file analysed through the frame runner (issue 28): VideoFlow.

One job: a video file's frames through browser.runner's FrameRunner, with the face mode's
stages and the one FramePresenter the camera and photos use (no copy of the frame skeleton).
The page only decodes (app/video.js, messages in browser.video_messages); everything else is
decided here:

- which media times: `sampling` frames per second of video (k / N, moodcam.video_report's
  sample_times; DEFAULT_PER_SECOND = 10, ?video_fps=N for another rate up to 60: a video's every
  frame at N = its frame rate). Each frame is analysed at its media time (the <video>'s
  currentTime after the seek): timestamp_ms = media time, so the tracker, the votes and the mood's
  dwell run on the video's clock, not the wall's;
- the pace: as fast as the device allows. Two frames are asked for at a time, so the page seeks and
  decodes the next while this one is analysed;
- the analyser is reset (media clock 0) at the start; the camera is stopped and a photo's burst
  cancelled, as a photo does; a camera started or a photo chosen meanwhile ends the analysis;
- progress (<html data-video-state>, data-video-progress, the bar, time left), Cancel (keeps what
  was analysed), a second video chosen meanwhile (the first is cancelled, with a word saying so);
- the report (moodcam.video_report: one compact row per face per frame, no frame is kept) and its
  exports (the "download" message, made on this device).
A file the browser cannot open is a Failure naming its type; one that stops decoding part-way
(truncated) keeps what decoded, and the report says where it stopped.
"""
from __future__ import annotations

import asyncio
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from ..video_report import (DEFAULT_PER_SECOND, FaceRow, VideoReport, ended_text,
                            progress_text, sample_times)
from ..mood.timeline import timeline_key
from . import failures
from .flow import FrameFlow
from .interop import new_canvas, now_ms
from .messages import AppState, DownloadMessage, Post
from .photo import scaled_size
from .runner import FrameInput, FrameJob
from .settings import Settings
from .status import AppStatus
from .ui import Ui
from .video_messages import CloseVideo, OpenVideo, RequestVideoFrame, VideoEvent, VideoMessage
from .video_view import VideoView

AHEAD = 2                 # frames asked for at once: the page decodes the next while one is analysed
PROGRESS_EVERY_S = 0.25   # wall seconds between progress updates
# A frame whose own time is this far before the time asked for: the file stops decoding there.
BEHIND_S = 0.5
FACES_ONLY = ("Video analysis reads faces, and a custom detector is running: choose “faces” under Detect, "
              "then the video again.")


@dataclass(frozen=True)
class Sampling:
    per_second: float

    @property
    def words(self) -> str:
        return f"{self.per_second:g} frames per second"


def sampling_from(params: Any) -> Sampling:
    """?video_fps=N (0.1..60); anything else keeps the default."""
    value = str(params.get("video_fps", "") if hasattr(params, "get") else "").strip().lower()
    try:
        rate = float(value)
    except ValueError:
        return Sampling(DEFAULT_PER_SECOND)
    return Sampling(rate) if 0.1 <= rate <= 60.0 else Sampling(DEFAULT_PER_SECOND)


def face_rows(job: FrameJob) -> list[FaceRow]:
    """The report's rows of one analysed frame (its FrameResult's faces)."""
    result = job.result
    read = set(result.emotion_face_ids)
    return [FaceRow(f.id, _box(f.box), float(f.score), f.probabilities, f.id in read, f.label) for f in result.faces]


def _box(box: Any) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return x0, y0, x1, y1


@dataclass
class Job:
    id: int
    name: str
    file: Any
    cancelled: str = ""                     # why it was asked to stop ("" while it runs)
    answers: deque = field(default_factory=deque)
    waiting: asyncio.Future | None = None


class VideoFlow:
    def __init__(self, *, flow: FrameFlow, post: Post, ui: Ui, status: AppStatus, view: VideoView, sampling: Sampling,
                 settings: Callable[[], Settings], models: Callable[[], dict], backend: Callable[[], str]) -> None:
        self._flow = flow
        self._post = post
        self._ui = ui
        self._status = status
        self.view = view
        self.sampling = sampling
        self._settings = settings
        self._models = models
        self._backend = backend
        self._ids = 0
        self.job: Job | None = None
        self._running: asyncio.Future | None = None
        self.report: VideoReport | None = None
        self.elapsed_s = 0.0                      # the last analysis's wall time (its pace is shown)
        view.state("idle")

    # == the page's messages and buttons ============================================================
    async def choose(self, file: Any, name: str) -> None:
        """A video chosen or dropped. One analysis at a time: a running one is cancelled (its word says so)."""
        if getattr(self._flow.mode, "face", None) is None:
            self._ui.notice(FACES_ONLY)
            return
        previous, running = self.job, self._running
        if previous is not None and running is not None and not running.done():
            self._stop(previous, f"another video was chosen ({name})")
            await asyncio.wait([running])
            self._ui.notice(f"The analysis of {previous.name} was cancelled to analyse {name}.")
        self._ids += 1
        job = self.job = Job(self._ids, name, file)
        self._running = asyncio.ensure_future(self._analyse(job))
        await self._running

    def cancel(self) -> None:
        if self.job is not None:
            self._stop(self.job, "cancelled")

    def on_message(self, message: VideoMessage) -> None:
        """The decoder's answer: to the job that asked, else let go (its bitmap closed)."""
        job = self.job
        if job is None or message.id != job.id:
            _release(message)
            return
        if job.waiting is not None and not job.waiting.done():
            job.waiting.set_result(message)
            job.waiting = None
        else:
            job.answers.append(message)

    def export(self, what: str) -> None:
        """csv | summary | json: a file made here, saved by the browser (nothing is uploaded)."""
        report = self.report
        if report is None:
            self._ui.notice("Analyse a video first: its report is what is saved.")
            return
        stem = report.name.rsplit(".", 1)[0] or "video"
        made = {"csv": (f"{stem}-moodcam-frames.csv", "text/csv", report.to_csv),
                "summary": (f"{stem}-moodcam-faces.csv", "text/csv", report.summary_csv),
                "json": (f"{stem}-moodcam-report.json", "application/json", report.to_json)}[what]
        self._post(DownloadMessage(made[0], made[1], made[2]()))

    # == one analysis ============================================================================
    def _stop(self, job: Job, why: str) -> None:
        job.cancelled = job.cancelled or why
        if job.waiting is not None and not job.waiting.done():
            job.waiting.set_result(None)

    async def _answer(self, job: Job) -> VideoMessage | None:
        if job.answers:
            return job.answers.popleft()
        if job.cancelled:
            return None
        job.waiting = asyncio.get_event_loop().create_future()
        return await job.waiting

    async def _analyse(self, job: Job) -> None:
        view = self.view
        view.state("analysing")                   # at once: the file is being opened
        self._post(OpenVideo(job.id, job.file))
        opened = await self._answer(job)
        if opened is None or opened.event is not VideoEvent.LOADED:
            self._post(CloseVideo())
            if opened is not None:
                self._unreadable(job, opened)
            return
        flow = self._flow
        flow.stop_camera()
        await flow.photo.cancel()
        self._status.clear_failure()
        flow.mode.renderer.clear()
        ui = self._ui
        ui.hidden("still", False)
        ui.hidden("video", True)
        flow.source = "video"
        ui.data("source", "video")
        self._status.set(AppState.READY)
        size = (opened.width, opened.height)
        analysed = scaled_size(*size)
        settings = self._settings()
        report = self.report = VideoReport(
            name=job.name, duration_s=opened.duration, size=size, analysed_size=analysed,
            settings=self._report_settings(settings), models=self._models(), labels=self._labels())
        view.start(job.name, opened.duration, size, analysed)
        flow.mode.analyser.reset(settings, 0.0)
        started = time.perf_counter()
        try:
            outcome = await self._frames(job, report, analysed)
        except Exception as error:  # noqa: BLE001 - shown with what was analysed so far
            traceback.print_exc()
            report.stop(report.analysed_s, f"the analysis failed ({type(error).__name__}: {error})")
            outcome = "done"
        finally:
            self._post(CloseVideo())
        self.elapsed_s = time.perf_counter() - started
        view.progress(1.0 if outcome == "done" else report.analysed_s / max(report.duration_s, 1e-6),
                      ended_text(report.analysed_s, report.duration_s, self.elapsed_s))
        view.show(report, outcome)

    async def _frames(self, job: Job, report: VideoReport, size: tuple[int, int]) -> str:
        """Every sampled frame through the runner; 'done' or 'cancelled'."""
        flow, view = self._flow, self.view
        times = sample_times(report.duration_s, self.sampling.per_second)
        asked: deque[float] = deque()

        def ask() -> None:
            t = next(times, None)
            if t is not None:
                asked.append(t)
                self._post(RequestVideoFrame(job.id, t, *size))

        for _ in range(AHEAD):
            ask()
        started, shown_at, last_time = time.perf_counter(), 0.0, -1.0
        still = flow.photo.still
        still.width, still.height = size
        preview = still.getContext("2d")
        # The page's bitmap is drawn once into a CPU canvas the nets' inputs are drawn from: a
        # decoded bitmap may be GPU memory, and each net's draw would read it back again.
        work, context = new_canvas(*size, read_often=True)
        while asked:
            answer = await self._answer(job)
            wanted = asked.popleft()
            if job.cancelled or flow.source != "video":
                _release(answer)
                report.stop(report.analysed_s, job.cancelled or f"the {flow.source or 'camera'} took over")
                return "cancelled"
            if answer is None or answer.event is VideoEvent.FAILED or 0 <= answer.shown < wanted - BEHIND_S:
                _release(answer)
                report.stop(wanted, self._stopped_why(answer))
                return "done"
            ask()
            if answer.time <= last_time:              # not after the last one (a seek that did not move)
                _release(answer)
                continue
            last_time = answer.time
            _draw(context, answer.image, size)
            frame = FrameInput(work, size[0], size[1], 1000.0 * answer.time, now_ms(), source="video")
            job_done = await flow.runner.run(flow.mode.analyser, frame, flow.presenter)
            report.add(answer.time, face_rows(job_done), _mood_key(job_done))
            elapsed = time.perf_counter() - started
            if elapsed - shown_at >= PROGRESS_EVERY_S:
                shown_at = elapsed
                preview.drawImage(work, 0, 0)         # the picture under the boxes, a few times a second
                done_s = min(report.analysed_s, report.duration_s)
                view.progress(done_s / max(report.duration_s, 1e-6), progress_text(done_s, report.duration_s, elapsed))
        return "done"

    @staticmethod
    def _stopped_why(answer: VideoMessage | None) -> str:
        if answer is not None and answer.event is VideoEvent.FRAME:
            return f"the file stops decoding at {answer.shown:.1f} s (truncated?)"
        if answer is None or answer.error is None:
            return "the file stops decoding here (truncated?)"
        return f"the file stops decoding here ({answer.error.name}{': ' + answer.error.message if answer.error.message else ''})"

    def _unreadable(self, job: Job, answer: VideoMessage) -> None:
        error = answer.error
        mime = str(getattr(job.file, "type", "") or "")
        failure = failures.video_unreadable(job.name, mime, "" if error is None else error.name)
        self._status.fail(failure)
        self.view.failed(f"{failure.message} {failure.fix}")

    def _report_settings(self, settings: Settings) -> dict:
        analyser = self._flow.mode.analyser
        head = getattr(analyser, "calibration", None)
        return {"sampling": self.sampling.words, "per_second": self.sampling.per_second,
                "detect_every": settings.detect_every,
                "emotion_every": settings.emotion_every, "threshold": settings.threshold, "range": settings.range,
                "grab": settings.grab, "backend": self._backend(),
                "calibration": None if head is None else getattr(head, "name", "a calibration")}

    def _labels(self) -> tuple[str, ...]:
        face = getattr(self._flow.mode, "face", None)
        return tuple(face.classify.labels) if face is not None else ()


def _mood_key(job: FrameJob) -> str:
    snap = job.result.mood
    return timeline_key(snap.state, snap.mood)



def _draw(context: Any, image: Any, size: tuple[int, int]) -> None:
    """The page's frame (an ImageBitmap) into the work canvas at `size`, then closed."""
    try:
        context.drawImage(image, 0, 0, *size)
    finally:
        image.close()


def _release(answer: VideoMessage | None) -> None:
    """An answer not analysed: its bitmap closed at once (it holds the decoder's memory)."""
    if answer is not None and answer.image is not None:
        answer.image.close()
