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
  was analysed); a second video chosen meanwhile asks first (#video-confirm, an in-page question:
  the analysis runs on untouched while it waits): "keep analysing" forgets the new file, "analyse
  the new one" cancels the running analysis (its word says so) and starts the new file;
- the report (moodcam.video_report: one compact row per face per frame, no frame is kept), each
  face's thumbnail (browser.video_thumbs), the chosen face's chart, the preview at a clicked moment
  (the page seeks a <video> of the file; its boxes come from the report's rows, nothing is analysed
  again), and the exports (the "download" message, made on this device).
A file the browser cannot open is a Failure naming its type; one that stops decoding part-way
(truncated) keeps what decoded, and the report says where it stopped.
"""
from __future__ import annotations

import asyncio
import time
import traceback
from collections import deque
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Callable

from ..video_report import DEFAULT_PER_SECOND, VideoReport, ended_text, sample_times
from . import failures
from .flow import FrameFlow
from .messages import DownloadMessage, Post
from .photo import scaled_size
from .settings import Settings
from .status import AppStatus
from .ui import Ui
from .video_messages import CloseVideo, OpenVideo, PreviewVideo, RequestVideoFrame, VideoEvent, VideoMessage
from .video_analysis import FrameAnalysis, face_rows  # noqa: F401 - face_rows: video's public name
from .video_decoding import DecodedVideo
from .video_view import VideoView, chosen_face

AHEAD = 2                 # frames asked for at once: the page decodes the next while one is analysed
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


# How a file is decoded: WebCodecs in the engine's thread where the browser and the file allow it
# (browser.video_decoding), else, or with ?video_decoder=seek, by seeking the page's <video>.
WEBCODECS, SEEK = "webcodecs", "seek"


def decoding_from(params: Any) -> str:
    """?video_decoder=seek|webcodecs; anything else keeps WebCodecs (with its fallback)."""
    value = str(params.get("video_decoder", "") if hasattr(params, "get") else "").strip().lower()
    return SEEK if value == SEEK else WEBCODECS


def sampling_from(params: Any) -> Sampling:
    """?video_fps=N (0.1..60); anything else keeps the default."""
    value = str(params.get("video_fps", "") if hasattr(params, "get") else "").strip().lower()
    try:
        rate = float(value)
    except ValueError:
        return Sampling(DEFAULT_PER_SECOND)
    return Sampling(rate) if 0.1 <= rate <= 60.0 else Sampling(DEFAULT_PER_SECOND)


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
                 settings: Callable[[], Settings], models: Callable[[], dict], backend: Callable[[], str],
                 decoding: str = WEBCODECS) -> None:
        self._flow = flow
        self._post = post
        self._ui = ui
        self._status = status
        self.view = view
        self.sampling = sampling
        self.decoding = decoding                  # WEBCODECS, or SEEK (?video_decoder=seek)
        self.decoder_words = ""                   # how the last file was decoded, for its report
        self._settings = settings
        self._models = models
        self._backend = backend
        self._ids = 0
        self.job: Job | None = None
        self._running: asyncio.Future | None = None
        self.report: VideoReport | None = None
        self._report_file: Any = None             # the file the report was made from (its preview's source)
        self.chosen: int | None = None            # the face whose chart is shown
        self.pending: tuple[Any, str] | None = None   # (file, name) chosen during an analysis: asked about
        self.elapsed_s = 0.0                      # the last analysis's wall time (its pace is shown)
        view.state("idle")

    # == the page's messages and buttons ============================================================
    @property
    def analysing(self) -> bool:
        return self.job is not None and self._running is not None and not self._running.done()

    async def choose(self, file: Any, name: str) -> None:
        """A video chosen or dropped. One analysis at a time: during one, the page asks first (#video-confirm)."""
        if getattr(self._flow.mode, "face", None) is None:
            self._ui.notice(FACES_ONLY)
            return
        if self.job is not None and (self.analysing or self.pending is not None):
            self.pending = (file, name)           # the newest file chosen is the one asked about
            self.view.ask(self.job.name, name, running=self.analysing)
            return
        await self._start(file, name)

    def keep(self) -> None:
        """'Keep analysing': the file chosen meanwhile is forgotten; the analysis goes on untouched."""
        if self.pending is None:
            return
        name, self.pending = self.pending[1], None
        self.view.asked()
        self._ui.notice(f"{name} was not analysed.")

    async def switch(self) -> None:
        """'Analyse the new one': the running analysis is cancelled (what it analysed is kept in its
        report until the new one's starts), then the file chosen meanwhile is analysed."""
        if self.pending is None:
            return
        (file, name), self.pending = self.pending, None
        self.view.asked()
        previous, running = self.job, self._running
        if previous is not None and running is not None and not running.done():
            self._stop(previous, f"another video was chosen ({name})")
            await asyncio.wait([running])
            self._ui.notice(f"The analysis of {previous.name} was cancelled to analyse {name}.")
        await self._start(file, name)

    async def _start(self, file: Any, name: str) -> None:
        self._ids += 1
        job = self.job = Job(self._ids, name, file)
        self._running = asyncio.ensure_future(self._analyse(job))
        await self._running

    def cancel(self) -> None:
        if self.job is not None:
            self._stop(self.job, "cancelled")

    def choose_face(self, face_id: int) -> None:
        """A face's row clicked: its button pressed, its chart shown."""
        report = self.report
        if report is None or face_id not in report.face_ids():
            return
        self.chosen = face_id
        self.view.faces(report, face_id)
        self.view.chart(report, face_id)

    def seek(self, time_s: float) -> None:
        """A moment clicked in the report: the preview shows the analysed frame at that time, with its boxes."""
        report = self.report
        index = None if report is None else report.frame_at(time_s)
        if report is None or index is None or self._report_file is None:
            return
        self._post(PreviewVideo(self._report_file, report.frame_time(index)))
        self.view.preview(report, index, self.chosen)

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
        decoded, why = (await DecodedVideo.open(job.file) if self.decoding == WEBCODECS
                        else (None, "?video_decoder=seek"))
        if decoded is not None:
            duration, size = decoded.duration_s, decoded.display_size
            self.decoder_words = "WebCodecs, in the engine's thread"
        else:
            self._post(OpenVideo(job.id, job.file))
            opened = await self._answer(job)
            if opened is None or opened.event is not VideoEvent.LOADED:
                self._post(CloseVideo())
                if opened is not None:
                    self._unreadable(job, opened)
                return
            duration, size = opened.duration, (opened.width, opened.height)
            self.decoder_words = f"seeking the page's <video> ({why})"
        flow = self._flow
        await flow.show_still("video")
        self._post(PreviewVideo(None, 0.0))       # the last report's preview lets its file go
        self.view.preview_closed()
        analysed = scaled_size(*size)
        settings = self._settings()
        report = self.report = VideoReport(
            name=job.name, duration_s=duration, size=size, analysed_size=analysed,
            settings=self._report_settings(settings), models=self._models(), labels=self._labels())
        self._report_file, self.chosen = job.file, None
        view.start(job.name, duration, size, analysed)
        flow.mode.analyser.reset(settings, 0.0)
        started = time.perf_counter()
        try:
            outcome = await (self._frames(job, report, analysed) if decoded is None
                             else self._decoded_frames(job, report, analysed, decoded))
        except Exception as error:  # noqa: BLE001 - shown with what was analysed so far
            traceback.print_exc()
            report.stop(report.analysed_s, f"the analysis failed ({type(error).__name__}: {error})")
            outcome = "done"
        finally:
            self._post(CloseVideo())
        self.elapsed_s = time.perf_counter() - started
        view.progress(1.0 if outcome == "done" else report.analysed_s / max(report.duration_s, 1e-6),
                      ended_text(report.analysed_s, report.duration_s, self.elapsed_s))
        self.chosen = chosen_face(report)
        view.show(report, outcome, self.chosen)
        if self.pending is not None:              # asked during the analysis: the question now says it ended
            view.ask(job.name, self.pending[1], running=False)

    async def _decoded_frames(self, job: Job, report: VideoReport, size: tuple[int, int],
                              decoded: DecodedVideo) -> str:
        """Every sampled frame, decoded here (WebCodecs), through the runner; 'done' or 'cancelled'."""
        flow = self._flow
        analysis = FrameAnalysis(flow, self.view, report, size)
        times = sample_times(report.duration_s, self.sampling.per_second)
        async with aclosing(decoded.frames(times)) as frames:
            async for picture, time_s in frames:
                if job.cancelled or flow.source != "video":
                    report.stop(report.analysed_s, job.cancelled or f"the {flow.source or 'camera'} took over")
                    return "cancelled"
                analysis.draw(picture, decoded.track.rotation)   # closed when the next is asked for
                await analysis.analyse(time_s)
        if decoded.stopped is not None:
            report.stop(*decoded.stopped)
        return "done"

    async def _frames(self, job: Job, report: VideoReport, size: tuple[int, int]) -> str:
        """Every sampled frame, seeked on the page, through the runner; 'done' or 'cancelled'."""
        flow = self._flow
        times = sample_times(report.duration_s, self.sampling.per_second)
        asked: deque[float] = deque()

        def ask() -> None:
            t = next(times, None)
            if t is not None:
                asked.append(t)
                self._post(RequestVideoFrame(job.id, t, *size))

        for _ in range(AHEAD):
            ask()
        last_time = -1.0
        analysis = FrameAnalysis(flow, self.view, report, size)
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
            try:
                analysis.draw(answer.image)
            finally:
                answer.image.close()
            await analysis.analyse(answer.time)
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
                "grab": settings.grab, "backend": self._backend(), "decoder": self.decoder_words,
                "calibration": None if head is None else getattr(head, "name", "a calibration")}

    def _labels(self) -> tuple[str, ...]:
        face = getattr(self._flow.mode, "face", None)
        return tuple(face.classify.labels) if face is not None else ()


def _release(answer: VideoMessage | None) -> None:
    """An answer not analysed: its bitmap closed at once (it holds the decoder's memory)."""
    if answer is not None and answer.image is not None:
        answer.image.close()
