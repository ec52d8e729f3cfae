"""The face mode: faces, their expression, the mood, as stages for browser.runner.

Every mode (this one, FacePartsAnalyser in browser.parts_mode, CustomAnalyser in
browser.custom_mode) is a FrameAnalyser: a list of stages the FrameRunner runs in order,
plus how to start afresh, retune and abort. None touches another's fields.

One face-mode frame (FrameLogic's protocol, moodcam.pipeline), a stage each:
  1. plan       begin_frame -> FramePlan                                   (logic_ms)
  2. grab       with Settings.grab == "work" and a net due: the whole frame read once into a
                kept tensor, both nets' inputs are then TF.js ops on it     (grab_ms)
  3. detect     if plan.run_detector: the near DetectorStep on the whole frame, or on a far run
                (plan.far, the auto range) the far one on plan.tile (None: the whole frame),
                letterboxed -> submit_detections (the decoding is the manifest entry's DetectorSpec)
  4. confirm    with a second look on (the auto range, moodcam.second_look): for each new face
                the near model has not vouched for, the near DetectorStep on a square crop around
                it -> submit_confirmation (confirmed: it counts from now on; refused: dropped)
  5. emotions   for each emotion request (a tracked face due): EmotionStep on its crop ->
                submit_emotion (probabilities and features in one read; with a calibration
                set, FrameLogic votes on the calibrated probabilities)
  6. result     end_frame -> FrameResult, every position in source pixels (the renderer
                mirrors a selfie picture when it draws)                    (logic_ms)
A frame where no net runs reads no pixels.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from dataclasses import replace

from ..cadence import Cadence, CadenceGovernor
from ..calibration import CalibrationHead
from ..detection.pipeline import BLAZEFACE_SHORT_RANGE_SPEC, DetectorSpec
from ..detection.tiles import TileConfig
from ..pipeline import FrameLogic, FrameLogicConfig
from ..auto_range import AutoRangeConfig
from ..schedule import ScheduleConfig
from ..second_look import SecondLookConfig
from ..tracking.tracker import TrackerConfig
from .frames import FrameReader
from .interop import tf, tf_scope
from .nets import DetectorStep, EmotionStep
from .perf import Clock
from .runner import FrameJob, Stage
from .settings import Settings


class FrameAnalyser(Protocol):
    """A mode's analysis: the stages browser.runner runs on each frame, and their upkeep."""

    @property
    def stages(self) -> Sequence[Stage]: ...

    def reset(self, settings: Settings, start_ms: float) -> None:
        """Start afresh (new camera, new photo)."""

    def reconfigure(self, settings: Settings) -> None:
        """New cadence / threshold; what was tracked is kept."""

    def abort(self, job: FrameJob) -> None:
        """A frame failed part-way: be ready for the next one."""


MAX_FACES = 6        # faces tracked at once, each with its own vote


def person_cadence(settings: Settings) -> Cadence:
    """The cadence the person set: the busiest the governor will run."""
    return Cadence(settings.detect_every, settings.emotion_every)


def logic_config(detector: DetectorSpec, settings: Settings, look: DetectorSpec | None = None,
                 far: DetectorSpec | None = None) -> FrameLogicConfig:
    """FrameLogic's knobs from the manifest's detector spec and the person's settings. `far`: the far
    model's spec (the auto range runs it between the near runs); `look`: the near model's spec, for the
    second look on the far model's small and tile-found faces."""
    auto = settings.range == "auto" and far is not None
    second_look = SecondLookConfig() if auto and look is not None else None
    return FrameLogicConfig(
        detector=detector,
        schedule=ScheduleConfig(detector_every_n_frames=settings.detect_every,
                                emotion_every_n_frames=settings.emotion_every),
        tracker=TrackerConfig(max_tracks=MAX_FACES),
        # The detector input is drawn with whole-pixel padding (tf.pad takes integers).
        round_letterbox=True,
        # Auto: the far model between near runs, sweeping 2x2 tiles (moodcam.auto_range, .detection.tiles):
        # faces across a room (docs/using.md "Near and far; groups"). The parts mode's FaceMesh stage
        # ignores both.
        tiles=TileConfig() if auto else None,
        auto_range=AutoRangeConfig(far=far) if auto and far is not None else None,
        # Each such face is confirmed by the near model before it counts (docs/using.md: measured).
        second_look=second_look,
        look_detector=look if look is not None else BLAZEFACE_SHORT_RANGE_SPEC,
    )


class FaceAnalyser:
    def __init__(self, detect: DetectorStep, classify: EmotionStep, reader: FrameReader,
                 look: DetectorStep | None = None, far: DetectorStep | None = None) -> None:
        self.detect = detect
        self.look = look          # the near detector, for second looks (None: every face counts at once)
        self.far = far            # the far detector, for the auto range (None: near only)
        self.classify = classify
        self.reader = reader
        self.settings = Settings()
        self.governor = CadenceGovernor(person_cadence(self.settings))   # the nets' cadence follows the device
        self.logic = FrameLogic(self._config(self.settings))
        self.grab_mode = "direct"
        self.calibration: CalibrationHead | None = None     # kept across reset() (new camera, photo)
        self._stages = (Stage("plan", self.plan_frame, "logic_ms"), Stage("grab", self._grab),
                        Stage("detect", self._detect), Stage("confirm", self._confirm),
                        Stage("emotions", self.emotions),
                        Stage("result", self.result, "logic_ms"))

    def _config(self, settings: Settings) -> FrameLogicConfig:
        entry = self.detect.model.entry
        c = self.governor.current
        adapted = replace(settings, detect_every=c.detect_every, emotion_every=c.emotion_every)
        look = None if self.look is None else self.look.model.entry.detector_spec()
        far = None if self.far is None else self.far.model.entry.detector_spec(min_score=settings.threshold)
        return logic_config(entry.detector_spec(min_score=settings.threshold), adapted, look, far)

    def reset(self, settings: Settings, start_ms: float) -> None:
        self.settings = settings
        self.governor.set_person(person_cadence(settings))
        self.logic = FrameLogic(self._config(settings), start_ms=start_ms)
        self.logic.set_calibration(self.calibration)
        self.grab_mode = settings.grab

    def set_calibration(self, head: CalibrationHead | None) -> None:
        """A person's calibration head (None: the generic net) for every later frame.

        ValueError when the head does not fit this emotion net (its feature size, or a graph
        without the `features` output)."""
        if head is not None and head.feature_size != self.classify.feature_size:
            raise ValueError(f"the calibration expects {head.feature_size} features, the emotion net gives "
                             f"{self.classify.feature_size or 'none'}; teach it anew with this model")
        self.calibration = head
        self.logic.set_calibration(head)

    def reconfigure(self, settings: Settings) -> None:
        self.settings = settings
        self.governor.set_person(person_cadence(settings))
        self.logic.reconfigure(self._config(settings))
        self.grab_mode = settings.grab

    def adapt(self, job: FrameJob, frame_interval_ms: float) -> None:
        """After a camera frame: its times to the CadenceGovernor; a new cadence from the next frame on."""
        if not self.settings.adapt:
            return
        result, stages = job.result, job.times.by_stage
        detector_ms = stages.get("detect", 0.0) + stages.get("mesh", 0.0) if result.ran_detector else 0.0
        emotion_ms = stages.get("emotions", 0.0) if result.emotion_face_ids else 0.0
        if self.governor.observe(job.times.total_ms, detector_ms, emotion_ms, frame_interval_ms, len(result.faces)):
            self.logic.reconfigure(self._config(self.settings))

    def use_far(self, far: DetectorStep, settings: Settings) -> None:
        """The far detector, loaded when the auto range is first chosen: used from the next frame on."""
        self.far = far
        self.reconfigure(settings)

    def grab_work_frame(self, job: FrameJob):
        """The whole frame as a kept tensor (Settings.grab "work"); the runner disposes it."""
        f = job.frame
        with Clock(job.times)("grab_ms"), tf_scope("frame"):
            return tf.keep(self.reader.grab(f.image, f.width, f.height))

    # == the stages (module doc) ==================================================================
    @property
    def stages(self) -> Sequence[Stage]:
        return self._stages

    def plan_frame(self, job: FrameJob) -> None:
        f = job.frame
        job.plan = self.logic.begin_frame(f.timestamp_ms, f.width, f.height)

    def _grab(self, job: FrameJob) -> None:
        if self.grab_mode == "work" and (job.plan.run_detector or self.logic.emotion_requests()):
            job.work = self.grab_work_frame(job)

    async def _detect(self, job: FrameJob) -> None:
        plan, f = job.plan, job.frame
        if not plan.run_detector:
            return
        step = self.far if plan.far and self.far is not None else self.detect
        boxes, scores = await step(job.times, plan.detector_letterbox, f.image, f.width, f.height, job.work, plan.tile)
        with Clock(job.times)("logic_ms"):
            self.logic.submit_detections(boxes, scores)

    async def _confirm(self, job: FrameJob) -> None:
        """Second looks: the near detector on a crop around each new face that waits for one."""
        clock = Clock(job.times)
        with clock("logic_ms"):
            requests = self.logic.confirm_requests()
        f, look = job.frame, self.look
        if look is None:
            return
        for request in requests:
            boxes, scores = await look(job.times, request.letterbox, f.image, f.width, f.height, job.work,
                                       request.region)
            with clock("logic_ms"):
                self.logic.submit_confirmation(request.face_id, boxes, scores)

    async def emotions(self, job: FrameJob) -> None:
        """Every face due: crops -> emotion net -> submit_emotion (the face-parts mode shares it)."""
        clock = Clock(job.times)
        with clock("logic_ms"):
            requests = self.logic.emotion_requests()
        if requests:
            probs, features = await self.classify(job.times, requests, job.frame.image, job.work)   # [n, 7], [n, D]
            with clock("logic_ms"):
                for i, request in enumerate(requests):
                    self.logic.submit_emotion(request.face_id, probs[i], None if features is None else features[i])

    def result(self, job: FrameJob) -> None:
        job.result = self.logic.end_frame()

    def abort(self, job: FrameJob) -> None:
        self.logic.abort_frame()      # FrameLogic ready for the next frame even when this one failed
