"""One frame runner for every mode: camera faces, face parts, custom detector, photo and video.

A mode is a list of Stages (browser.analyser, browser.parts_mode, browser.custom_mode); a
frame source (the camera's FrameLoop, a photo's burst, a video's frames) hands each frame to
FrameRunner.run with the FrameView that shows it. For one frame the runner:

  1. makes the FrameJob: the frame, a fresh FrameTimes, no work tensor yet;
  2. runs the mode's stages in order. Each is timed by name (FrameTimes.by_stage) and, where the
     stage names one, its whole time is added to that FrameTimes field (FrameLogic stages ->
     logic_ms). Net stages split their own time (detector_ms / emotion_ms / transfer_ms);
  3. if a stage raises, asks the mode to abort (FrameLogic is left between frames, ready for the
     next one) and re-raises: the caller decides what the person sees;
  4. disposes the work tensor (Settings.grab "work") whatever happened;
  5. draws through the view (timed as draw_ms), feeds the PerfMeter, then lets the view report
     (HUD, figures, the frame's ui ops).

Nothing here knows what a face is: the mode's stages and its renderer do.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol, Sequence

from .perf import FrameTimes, PerfMeter


@dataclass(frozen=True)
class FrameInput:
    image: Any                   # anything drawImage takes: VideoFrame, ImageBitmap, a canvas
    width: int                   # source pixels
    height: int
    timestamp_ms: float          # the analysis clock: camera now, a photo's burst step, a video's media time
    wall_ms: float               # the engine clock when the frame started (the meter's fps)
    source: str = "camera"       # "camera" | "photo" | "video": what the view records
    mirrored: bool = False       # a selfie camera's picture, drawn mirrored


@dataclass
class FrameJob:
    """One frame in flight, handed from stage to stage."""
    frame: FrameInput
    times: FrameTimes = field(default_factory=FrameTimes)
    work: Any = None             # the kept whole-frame tensor (Settings.grab "work"); the runner disposes it
    plan: Any = None             # the mode's plan for this frame (FrameLogic.begin_frame's FramePlan)
    result: Any = None           # what the last stage leaves for the renderer
    mesh: Any = None             # the face-parts mode's MeshResult (None in the other modes)


StageStep = Callable[[FrameJob], Awaitable[None] | None]


@dataclass(frozen=True)
class Stage:
    name: str                    # the name it is timed by (FrameTimes.by_stage)
    step: StageStep              # sync or async
    adds_to: str | None = None   # the FrameTimes field its whole time adds to; None: it splits its own


class FrameMode(Protocol):
    """What the runner needs of a mode."""

    @property
    def stages(self) -> Sequence[Stage]: ...

    def abort(self, job: FrameJob) -> None:
        """The frame failed or was cancelled part-way: leave the mode ready for the next one."""


class FrameView(Protocol):
    """What shows an analysed frame (browser.present.FramePresenter)."""

    def draw(self, job: FrameJob) -> None: ...

    def report(self, job: FrameJob) -> None:
        """After the meter has the frame: HUD, page figures, the frame's ui ops."""


class FrameRunner:
    def __init__(self, perf: PerfMeter) -> None:
        self.perf = perf

    async def analyse(self, mode: FrameMode, frame: FrameInput) -> FrameJob:
        """Steps 1-4: the mode's stages on one frame; job.result is the renderer's input."""
        job = FrameJob(frame)
        times = job.times
        t0 = time.perf_counter()
        try:
            for stage in mode.stages:
                s0 = time.perf_counter()
                pending = stage.step(job)
                if pending is not None:
                    await pending
                spent = 1000 * (time.perf_counter() - s0)
                times.by_stage[stage.name] = times.by_stage.get(stage.name, 0.0) + spent
                if stage.adds_to is not None:
                    setattr(times, stage.adds_to, getattr(times, stage.adds_to) + spent)
        except BaseException:
            mode.abort(job)
            raise
        finally:
            if job.work is not None:
                job.work.dispose()
                job.work = None
        times.total_ms = 1000 * (time.perf_counter() - t0)
        return job

    async def run(self, mode: FrameMode, frame: FrameInput, view: FrameView) -> FrameJob:
        """One frame, analysed (steps 1-4) and shown (step 5)."""
        job = await self.analyse(mode, frame)
        self.show(job, view)
        return job

    def show(self, job: FrameJob, view: FrameView) -> None:
        """Step 5: draw (draw_ms, counted in the total), feed the meter, report."""
        r0 = time.perf_counter()
        view.draw(job)
        times = job.times
        times.draw_ms = 1000 * (time.perf_counter() - r0)
        times.total_ms += times.draw_ms
        self.perf.add(times, job.frame.wall_ms)
        view.report(job)
