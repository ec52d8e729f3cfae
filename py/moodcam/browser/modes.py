"""Loading a mode: its models, its FrameAnalyser and its renderer (browser.session picks one).

- faces (default): BlazeFace + the emotion net -> FaceAnalyser + FaceRenderer; the
  face-parts view adds FaceMesh later (browser.controls, only when it is turned on);
- a custom detector (?model=NAME): its DetectorStep -> CustomAnalyser + DetectionRenderer.
Model files are verified by the ModelStore; a ModelError carries the Failure to show.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..manifest import Manifest, ManifestError
from . import failures
from .analyser import FaceAnalyser
from .custom_mode import CustomAnalyser, unavailable
from .failures import Failure
from .frames import FrameReader
from .mesh import MeshStage
from .model_store import ModelError, ModelStore
from .nets import DetectorStep, EmotionStep
from .parts_mode import FacePartsAnalyser
from .render import FaceRenderer, Overlay
from .render_custom import DetectionRenderer
from .settings import Settings
from .ui import Ui

if TYPE_CHECKING:
    from .session import Session

# The face detector for each range (Settings.range): README "Near and far" has the figures.
DETECTORS = {"near": "blazeface_short_range", "far": "blazeface_full_range"}
EMOTION = "emotion_mini_xception"
MESH = "face_landmark"


def start_models(settings: Settings) -> tuple[str, ...]:
    """The models a start with these settings loads (FaceMesh only when its views are on)."""
    if settings.custom_model:
        return (settings.model,)
    mesh = (MESH,) if settings.show_parts or settings.show_mesh_points else ()
    return (DETECTORS[settings.range], EMOTION) + mesh


async def load_face_mode(models: ModelStore, reader: FrameReader, overlay: Overlay, ui: Ui,
                         settings: Settings) -> tuple[FaceAnalyser, FaceRenderer]:
    ui.data("mode", "faces")
    ui.progress(0.72, "Loading the face and emotion models…")
    detector, emotion = await models.load(DETECTORS[settings.range], EMOTION)
    analyser = FaceAnalyser(DetectorStep(detector, reader), EmotionStep(emotion, reader), reader)
    renderer = FaceRenderer(overlay, ui, show_boxes=settings.show_boxes, show_keypoints=settings.show_keypoints)
    return analyser, renderer


async def load_custom_mode(manifest: Manifest, models: ModelStore, reader: FrameReader, overlay: Overlay, ui: Ui,
                           settings: Settings) -> tuple[CustomAnalyser, DetectionRenderer] | Failure:
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
    return analyser, renderer


async def switch_face_parts(session: "Session") -> None:
    """Follow the face-parts / mesh key-points settings: load FaceMesh on first use (only then),
    and put the face-parts mode in the face mode's place, or back. Calls run one at a time."""
    s = session
    async with s.mesh_lock:
        st = s.settings
        want = st.show_parts or st.show_mesh_points
        s.parts.show_parts, s.parts.show_points = st.show_parts, st.show_mesh_points
        s.parts.update_legend()
        if s.face is None:
            return
        on = isinstance(s.analyser, FacePartsAnalyser)
        if want and not on:
            try:
                (model,) = await s.models.load(MESH)
            except ModelError as error:
                # Not fatal: the app works on without face parts.
                s.ui.notice(f"Face parts are unavailable: {error.failure.message} {error.failure.fix}")
                return
            st = s.settings      # the settings may have changed while the model loaded
            if st.show_parts or st.show_mesh_points:
                stage = MeshStage(model)
                s.parts.set_layout(stage.layout)
                s.analyser = FacePartsAnalyser(s.face, stage)
        elif not want and on:
            s.analyser = s.face
            s.parts.show(None)
        s.ui.data("mesh", "on" if isinstance(s.analyser, FacePartsAnalyser) else "off")


async def switch_range(session: "Session") -> None:
    """Near <-> far: load the other face detector (once) and hand it to the face mode."""
    s = session
    if s.face is None:
        return
    async with s.mesh_lock:
        name = DETECTORS[s.settings.range]
        if s.face.detect.model.name == name:
            return
        s.ui.notice(f"Loading the {s.settings.range}-range face detector…")
        try:
            (model,) = await s.models.load(name)
        except ModelError as error:
            s.ui.notice(f"The {s.settings.range}-range detector is unavailable: {error.failure.message}")
            return
        s.face.use_detector(DetectorStep(model, s.reader), s.settings)
        s.ui.notice("")
        s.ui.data("range", s.settings.range)
