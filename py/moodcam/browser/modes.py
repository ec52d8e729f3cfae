"""The modes: what analyses a frame and what draws it, built once the models have loaded.

- FaceMode (default): BlazeFace + the emotion net -> FaceAnalyser, drawn by
  FaceModeRenderer (boxes, key points, mood frame, bars, timeline). The face-parts
  view puts FacePartsAnalyser in the face analyser's place and back (FaceMesh is
  loaded on first use only); the range setting adds the far detector (auto) or leaves it out (near).
- CustomMode (?model=NAME): a trained detector's DetectorStep -> CustomAnalyser, drawn
  by DetectionRenderer; no mood.
Both give the session an `analyser` (browser.runner runs its stages) and a `renderer`,
never None. Model files are verified by the ModelStore; a ModelError carries the
Failure to show.
"""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Callable, Sequence

from ..manifest import Manifest, ManifestError
from ..mood.state import MoodSnapshot
from ..mood.timeline import MoodTimeline
from . import failures
from .analyser import FaceAnalyser, FrameAnalyser
from .custom_mode import CustomAnalyser, unavailable
from .failures import Failure
from .frames import FrameReader
from .mesh import MeshStage
from .model_store import ModelError, ModelStore
from .nets import DetectorStep, EmotionStep
from .parts_mode import FacePartsAnalyser
from .perf import PerfMeter
from .present import FaceModeRenderer, Renderer
from .runner import FrameJob
from .render import FaceRenderer, Overlay
from .render_custom import DetectionRenderer
from .render_mood import BarsRenderer, TimelineRenderer
from .render_parts import PartsRenderer
from .settings import Settings
from .ui import Ui

# The two face detectors: near on every detector run, far between them in the auto range (Settings.range);
# docs/using.md "Near and far; groups" has the figures.
DETECTORS = {"near": "blazeface_short_range", "far": "blazeface_full_range"}
EMOTION = "emotion_mini_xception"
MESH = "face_landmark"

# Settings a mode's drawing follows at once (browser.controls hands them to Mode.show_setting).
DISPLAY_SETTINGS = ("show_boxes", "show_keypoints", "show_bars")


def start_models(settings: Settings) -> tuple[str, ...]:
    """The models a start with these settings loads (FaceMesh only when its views are on)."""
    if settings.custom_model:
        return (settings.model,)
    mesh = (MESH,) if settings.show_parts or settings.show_mesh_points else ()
    far = (DETECTORS["far"],) if settings.range == "auto" else ()
    return (DETECTORS["near"], EMOTION) + far + mesh


class FaceMode:
    def __init__(self, face: FaceAnalyser, renderer: FaceModeRenderer, models: ModelStore, reader: FrameReader,
                 ui: Ui) -> None:
        self.face = face                          # the face analyser (also under face parts)
        self.analyser: FrameAnalyser = face       # what analyses frames now: face, or face parts
        self.renderer: Renderer = renderer
        self.view = renderer
        self._models = models
        self._reader = reader
        self._ui = ui
        self._switching = asyncio.Lock()          # face parts and range switch one at a time
        self._last_wall_ms: float | None = None

    @property
    def labels(self) -> Sequence[str]:
        return self.face.classify.labels

    def show_setting(self, name: str, on: bool) -> None:
        if name == "show_bars":
            self.view.bars.toggle(on)
        elif name in ("show_boxes", "show_keypoints"):
            setattr(self.view.faces, name, on)

    def frame_done(self, job: FrameJob) -> None:
        """A camera frame was shown: the cadence follows the device (moodcam.cadence), the figures say so."""
        last, self._last_wall_ms = self._last_wall_ms, job.frame.wall_ms
        self.face.adapt(job, job.frame.wall_ms - last if last is not None else 0.0)
        governor = self.face.governor
        self.view.perf.cadence = {"detect_every": governor.current.detect_every,
                                  "emotion_every": governor.current.emotion_every, "adapted": governor.adapted}

    def pause(self, snap: MoodSnapshot | None) -> None:
        """The page was hidden: the mood as it stands, no boxes."""
        if snap is not None:
            self.view.faces.show_mood(snap)
        self.renderer.clear()

    async def sync_parts(self, settings: Settings, current: Callable[[], Settings]) -> None:
        """Follow the face-parts / mesh key-points settings: load FaceMesh on first use (only then), and
        put the face-parts analyser in the face analyser's place, or back. `current`: the settings now
        (they may change while the model loads)."""
        parts = self.view.parts
        async with self._switching:
            want = settings.show_parts or settings.show_mesh_points
            parts.show_parts, parts.show_points = settings.show_parts, settings.show_mesh_points
            parts.update_legend()
            on = isinstance(self.analyser, FacePartsAnalyser)
            if want and not on:
                try:
                    (model,) = await self._models.load(MESH)
                except ModelError as error:
                    # Not fatal: the app works on without face parts.
                    self._ui.notice(f"Face parts are unavailable: {error.failure.message} {error.failure.fix}")
                    return
                now = current()
                if now.show_parts or now.show_mesh_points:
                    stage = MeshStage(model)
                    parts.set_layout(stage.layout)
                    self.analyser = FacePartsAnalyser(self.face, stage)
            elif not want and on:
                self.analyser = self.face
                parts.show(None)
            self._ui.data("mesh", "on" if isinstance(self.analyser, FacePartsAnalyser) else "off")

    async def switch_range(self, settings: Settings) -> None:
        """Auto <-> near only: load the far detector (once, on first choosing auto), then retune."""
        async with self._switching:
            if settings.range == "auto" and self.face.far is None:
                self._ui.notice("Loading the far-range face detector…")
                try:
                    (model,) = await self._models.load(DETECTORS["far"])
                except ModelError as error:
                    self._ui.notice(f"The far-range detector is unavailable: {error.failure.message}")
                    return
                self.face.use_far(DetectorStep(model, self._reader), settings)
                self._ui.notice("")
            else:
                self.face.reconfigure(settings)
            self._ui.data("range", settings.range)


class CustomMode:
    def __init__(self, analyser: CustomAnalyser, renderer: DetectionRenderer) -> None:
        self.analyser: FrameAnalyser = analyser
        self.renderer: Renderer = renderer
        self._boxes = renderer

    def show_setting(self, name: str, on: bool) -> None:
        if name == "show_boxes":
            self._boxes.show_boxes = on

    def frame_done(self, job: FrameJob) -> None:
        return                                    # every frame runs the one net: nothing to adapt

    def pause(self, snap: MoodSnapshot | None) -> None:
        self.renderer.clear()


Mode = FaceMode | CustomMode


class FaceViews:
    """What the face mode draws on besides the overlay: made with the session, so the face-parts
    legend and the timeline exist before any model has loaded."""

    def __init__(self, overlay: Overlay, ui: Ui, perf: PerfMeter, timeline: MoodTimeline,
                 timeline_view: TimelineRenderer, parts: PartsRenderer, bars_canvas: object) -> None:
        self.overlay, self.ui, self.perf = overlay, ui, perf
        self.timeline, self.timeline_view, self.parts = timeline, timeline_view, parts
        self.bars_canvas = bars_canvas


async def load_face_mode(models: ModelStore, reader: FrameReader, views: FaceViews, settings: Settings) -> FaceMode:
    ui = views.ui
    ui.data("mode", "faces")
    ui.progress(0.72, "Loading the face and emotion models…")
    # The near model always (every detector run, and the second looks); the far one for the auto range.
    detector, emotion, *far = await models.load(*start_models(replace(settings, show_parts=False,
                                                                      show_mesh_points=False)))
    near = DetectorStep(detector, reader)
    face = FaceAnalyser(near, EmotionStep(emotion, reader), reader, look=near,
                        far=DetectorStep(far[0], reader) if far else None)
    faces = FaceRenderer(views.overlay, ui, show_boxes=settings.show_boxes, show_keypoints=settings.show_keypoints)
    bars = BarsRenderer(views.bars_canvas, ui, face.classify.labels, settings.show_bars)
    renderer = FaceModeRenderer(faces, views.parts, bars, views.perf, views.timeline, views.timeline_view)
    ui.data("range", settings.range)
    return FaceMode(face, renderer, models, reader, ui)


async def load_custom_mode(manifest: Manifest, models: ModelStore, reader: FrameReader, overlay: Overlay, ui: Ui,
                           settings: Settings) -> CustomMode | Failure:
    """The custom detector `settings.model`, or the Failure that says why it cannot run."""
    name = settings.model
    ui.data("mode", "custom")
    ui.data("model", name)
    problem = unavailable(name, manifest)
    if problem is not None:
        return problem
    ui.progress(0.72, f"Loading the {name} model…")
    (model,) = await models.load(name)
    try:
        analyser = CustomAnalyser(DetectorStep(model, reader), settings)
    except ManifestError as error:
        raise ModelError(failures.manifest_problem(f"{name} is not a decodable detector ({error})")) from None
    renderer = DetectionRenderer(overlay, ui, analyser.labels, show_boxes=settings.show_boxes)
    renderer.introduce(name, model.entry.summary)
    return CustomMode(analyser, renderer)
