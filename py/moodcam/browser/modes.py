"""Loading a mode: its models, its FrameAnalyser and its renderer (browser.session picks one).

- faces (default): BlazeFace + the emotion net -> FaceAnalyser + FaceRenderer; the
  face-parts view adds FaceMesh later (browser.controls, only when it is turned on);
- a custom detector (?model=NAME): its DetectorStep -> CustomAnalyser + DetectionRenderer.
Model files are verified by the ModelStore; a ModelError carries the Failure to show.
"""
from __future__ import annotations

from ..manifest import Manifest, ManifestError
from . import failures
from .analyser import FaceAnalyser
from .custom_mode import CustomAnalyser, unavailable
from .failures import Failure
from .frames import FrameReader
from .model_store import ModelError, ModelStore
from .nets import DetectorStep, EmotionStep
from .render import FaceRenderer, Overlay
from .render_custom import DetectionRenderer
from .settings import Settings
from .ui import Ui

DETECTOR = "blazeface_short_range"
EMOTION = "emotion_mini_xception"
MESH = "face_landmark"


async def load_face_mode(models: ModelStore, reader: FrameReader, overlay: Overlay, ui: Ui,
                         settings: Settings) -> tuple[FaceAnalyser, FaceRenderer]:
    ui.data("mode", "faces")
    ui.progress(0.72, "Loading the face and emotion models…")
    detector, emotion = await models.load(DETECTOR, EMOTION)
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
