"""FaceMesh outputs -> frame pixels, and MediaPipe-style landmark tracking.

The model (models/face_landmark) takes the 192 x 192 crop of a ROI
(:mod:`moodcam.landmarks.roi`) and returns ``landmarks`` [1, 1404] = 468 x
(x, y, z) in input pixels and ``face_flag`` [1] = a face-presence logit.
Mapping back mirrors MediaPipe's FaceLandmarkCpu tail
(mediapipe/modules/face_landmark/face_landmark_cpu.pbtxt):

  TensorsToFloatsCalculator (activation SIGMOID)    presence = sigmoid(face_flag)
  ThresholdingCalculator (threshold 0.5)            no landmarks below it
  TensorsToLandmarksCalculator (468, 192 x 192)     x/192, y/192, z/192
  LandmarkProjectionCalculator (NORM_RECT: roi)     rotate about the ROI centre, scale by its side

so a landmark at input pixel (x, y) lands on ``roi.to_frame((x/192, y/192))``
and its depth z becomes z * roi.size / 192 frame pixels.

Tracking mirrors FaceLandmarkFrontCpu (face_landmark_front_cpu.pbtxt): the
detector runs only while fewer than ``max_faces`` faces are tracked
(NormalizedRectVectorHasMinSizeCalculator + GateCalculator); a tracked face's
next ROI comes from its landmarks (FaceLandmarkLandmarksToRoi); a face is
dropped when its presence falls below ``min_presence``; detection ROIs that
overlap a tracked ROI (IoU > 0.5, AssociationNormRectCalculator) are
discarded in favour of the tracked one.

Per frame (see FaceMeshTracker):

    plan = mesh.begin_frame(t_ms, W, H)
    if plan.run_detector:                        # BlazeFace on the letterboxed frame
        mesh.submit_detections(detections)       # Detections in frame pixels (as FrameLogic.submit_detections returns)
    for req in mesh.requests():                  # crop: tf.image.transform(frame, [req.transform], 'bilinear',
                                                 #                         'nearest', 0, [192, 192])
        mesh.submit_landmarks(req.face_id, landmarks, face_flag)
    result = mesh.end_frame()                    # result.to_dict(): landmarks, part outlines, key points
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..detection.result import Detections
from ..geometry.crop import CropRegion
from .parts import DEFAULT_LAYOUT, KEY_POINTS, FacePartLayout, key_points, part_polygons
from .roi import ROI_SCALE, detection_roi, landmarks_roi

__all__ = [
    "NUM_LANDMARKS",
    "INPUT_SIZE",
    "face_presence",
    "landmarks_to_frame",
    "frame_to_landmarks",
    "mesh_keypoints",
    "MeshConfig",
    "LandmarkRequest",
    "MeshFace",
    "MeshPlan",
    "MeshResult",
    "FaceMeshTracker",
]

NUM_LANDMARKS = 468
INPUT_SIZE = 192
# Landmark groups giving BlazeFace's six key points (right eye, left eye, nose tip, mouth, ears), in that order.
BLAZEFACE_ORDER = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear_tragion", "left_ear_tragion")


def face_presence(face_flag) -> float:
    """sigmoid of the face-flag logit (TensorsToFloatsCalculator, activation SIGMOID)."""
    v = float(np.asarray(face_flag, dtype=np.float64).reshape(-1)[0])
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def _raw(raw_landmarks) -> np.ndarray:
    a = np.asarray(raw_landmarks, dtype=np.float64)
    if a.size != NUM_LANDMARKS * 3:
        raise ValueError(f"FaceMesh landmarks must hold {NUM_LANDMARKS} x 3 = {NUM_LANDMARKS * 3} values "
                         f"(output [1, 1404]), got shape {a.shape}")
    return a.reshape(NUM_LANDMARKS, 3)


def landmarks_to_frame(raw_landmarks, roi: CropRegion, input_size: int = INPUT_SIZE) -> np.ndarray:
    """(468, 3) frame-pixel landmarks (x, y, z) from the model's raw [1, 1404] output for this ROI."""
    a = _raw(raw_landmarks)
    xy = roi.to_frame(a[:, :2] / input_size)
    z = a[:, 2] * (roi.size / input_size)
    return np.concatenate([xy, z[:, None]], axis=1)


def frame_to_landmarks(points, roi: CropRegion, input_size: int = INPUT_SIZE) -> np.ndarray:
    """Inverse of :func:`landmarks_to_frame`: (468, 3) frame pixels -> (468, 3) model input pixels."""
    p = np.asarray(points, dtype=np.float64)
    xy = roi.to_crop(p[:, :2]) * input_size
    z = p[:, 2] * (input_size / roi.size)
    return np.concatenate([xy, z[:, None]], axis=1)


def mesh_keypoints(landmarks) -> np.ndarray:
    """(6, 2) BlazeFace-order key points (eyes, nose tip, mouth, ear tragions) from (468, 2|3) landmarks."""
    p = np.asarray(landmarks, dtype=np.float64)[:, :2]
    return np.stack([p[list(KEY_POINTS[n])].mean(axis=0) for n in BLAZEFACE_ORDER])


@dataclass(frozen=True)
class MeshConfig:
    max_faces: int = 1              # face_mesh num_faces (MediaPipe's default 1)
    min_presence: float = 0.5       # FaceLandmarkCpu ThresholdingCalculator (min_tracking_confidence)
    input_size: int = INPUT_SIZE
    roi_scale: float = ROI_SCALE
    association_iou: float = 0.5    # AssociationNormRectCalculator min_similarity_threshold
    redetect_every_n_frames: int = 0  # 0: MediaPipe's rule only; N > 0: also run the detector every N frames

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be >= 1, got {self.max_faces}")
        if not 0.0 <= self.min_presence <= 1.0:
            raise ValueError(f"min_presence must be in [0, 1], got {self.min_presence}")
        if self.redetect_every_n_frames < 0:
            raise ValueError(f"redetect_every_n_frames must be >= 0, got {self.redetect_every_n_frames}")


@dataclass(frozen=True)
class LandmarkRequest:
    """Run FaceMesh on one ROI: ``tf.image.transform(frame, [transform], 'bilinear', 'nearest', 0, [size, size])``
    (frame as float [1, H, W, 3] in 0..255; then x/255) gives the model input."""

    face_id: int
    roi: CropRegion
    size: int
    transform: tuple[float, ...]   # output pixel -> frame pixel (8 numbers)
    source: str                    # "detection" | "landmarks"

    def to_dict(self) -> dict:
        r = self.roi
        return {"face_id": self.face_id, "size": self.size, "transform": list(self.transform),
                "source": self.source, "corners": r.corners().tolist(),
                "center": [r.center_x, r.center_y], "side": r.size, "rotation": r.rotation}


@dataclass(frozen=True, eq=False)
class MeshFace:
    id: int
    landmarks: np.ndarray      # (468, 3) frame pixels
    presence: float
    roi: CropRegion            # the crop these landmarks came from
    source: str                # how that crop was found: "detection" | "landmarks"
    tracked_frames: int        # consecutive frames with landmarks

    @property
    def box(self) -> np.ndarray:
        """(4,) xyxy bounds of the landmarks."""
        xy = self.landmarks[:, :2]
        return np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()])

    @property
    def keypoints(self) -> np.ndarray:
        """(6, 2) BlazeFace-order key points from the landmarks."""
        return mesh_keypoints(self.landmarks)

    def to_dict(self, layout: FacePartLayout = DEFAULT_LAYOUT, mirror_width: float | None = None, *,
                parts: bool = True, points: bool = True, decimals: int | None = 1) -> dict:
        xy = self.landmarks[:, :2]
        if mirror_width is not None:
            xy = xy.copy()
            xy[:, 0] = mirror_width - xy[:, 0]
        box = self.box
        if mirror_width is not None:
            box = np.array([mirror_width - box[2], box[1], mirror_width - box[0], box[3]])
        lm = np.round(xy, decimals) if decimals is not None else xy
        out = {"id": self.id, "presence": self.presence, "source": self.source,
               "tracked_frames": self.tracked_frames, "box": box.tolist(), "landmarks": lm.tolist()}
        if parts:
            out["parts"] = part_polygons(self.landmarks, layout, mirror_width=mirror_width, decimals=decimals)
        if points:
            out["key_points"] = key_points(self.landmarks, mirror_width=mirror_width)
        return out


@dataclass(frozen=True)
class MeshPlan:
    frame_index: int
    timestamp_ms: float
    run_detector: bool
    tracked: int          # faces carried over from the previous frame (their ROIs come from landmarks)


@dataclass(frozen=True)
class MeshResult:
    frame_index: int
    timestamp_ms: float
    faces: tuple[MeshFace, ...]
    ran_detector: bool
    frames: int            # frames so far (this one included)
    detector_runs: int     # frames on which the detector ran
    frame_width: float

    @property
    def detector_fraction(self) -> float:
        return self.detector_runs / self.frames if self.frames else 0.0

    def to_dict(self, layout: FacePartLayout = DEFAULT_LAYOUT, *, mirror: bool = False, parts: bool = True,
                points: bool = True) -> dict:
        """Plain data for the page (``to_js(..., dict_converter=Object.fromEntries)``)."""
        mw = self.frame_width if mirror else None
        return {"frame_index": self.frame_index, "timestamp_ms": self.timestamp_ms,
                "ran_detector": self.ran_detector, "frames": self.frames, "detector_runs": self.detector_runs,
                "detector_fraction": self.detector_fraction,
                "faces": [f.to_dict(layout, mw, parts=parts, points=points) for f in self.faces]}


@dataclass
class _Tracked:
    id: int
    roi: CropRegion
    source: str
    tracked_frames: int = 0


@dataclass
class _Frame:
    plan: MeshPlan
    frame_size: tuple[float, float]
    ran_detector: bool = False
    done: dict[int, MeshFace | None] = field(default_factory=dict)


def _axis_iou(a: CropRegion, b: CropRegion) -> float:
    # AssociationNormRectCalculator compares the rects' axis-aligned extents (rotation ignored).
    ha, hb = a.size / 2, b.size / 2
    iw = max(0.0, min(a.center_x + ha, b.center_x + hb) - max(a.center_x - ha, b.center_x - hb))
    ih = max(0.0, min(a.center_y + ha, b.center_y + hb) - max(a.center_y - ha, b.center_y - hb))
    inter = iw * ih
    union = a.size ** 2 + b.size ** 2 - inter
    return inter / union if union > 0 else 0.0


class FaceMeshTracker:
    """MediaPipe FaceMesh's detect-or-track loop around the two TF.js models (see the module doc)."""

    def __init__(self, config: MeshConfig = MeshConfig()) -> None:
        self.config = config
        self._tracked: list[_Tracked] = []
        self._next_id = 1
        self._frame_index = -1
        self._frame: _Frame | None = None
        self._frame_size: tuple[float, float] | None = None
        self._detector_runs = 0
        self._frames = 0
        self._last_detector: int | None = None

    # -- per frame -----------------------------------------------------------
    def begin_frame(self, timestamp_ms: float, frame_width: float, frame_height: float) -> MeshPlan:
        if self._frame is not None:
            raise RuntimeError("begin_frame() called twice; call end_frame() to finish the previous frame")
        size = (float(frame_width), float(frame_height))
        if self._frame_size != size:
            self._tracked = []             # ROIs are in the old frame's pixels
            self._frame_size = size
        self._frame_index += 1
        every = self.config.redetect_every_n_frames
        run = len(self._tracked) < self.config.max_faces or (
            every > 0 and (self._last_detector is None or self._frame_index - self._last_detector >= every))
        plan = MeshPlan(self._frame_index, float(timestamp_ms), run, len(self._tracked))
        self._frame = _Frame(plan, size)
        return plan

    def submit_detections(self, detections: Detections) -> tuple[LandmarkRequest, ...]:
        """BlazeFace detections in frame pixels (best first); returns the ROIs of the faces new this frame."""
        frame = self._require("submit_detections")
        frame.ran_detector = True
        new = []
        order = np.argsort(-np.asarray(detections.scores), kind="stable")
        for i in order[: self.config.max_faces]:           # ClipDetectionVectorSizeCalculator
            if detections.keypoints.shape[1] < 2:
                raise ValueError("FaceMesh ROIs need the detector's eye key points (K >= 2)")
            roi = detection_roi(detections.boxes[i], detections.keypoints[i], frame.frame_size,
                                scale=self.config.roi_scale)
            if any(_axis_iou(roi, t.roi) > self.config.association_iou for t in self._tracked):
                continue                                     # the tracked face wins
            if len(self._tracked) >= self.config.max_faces:
                break
            t = _Tracked(self._next_id, roi, "detection")
            self._next_id += 1
            self._tracked.append(t)
            new.append(self._request(t))
        return tuple(new)

    def requests(self) -> tuple[LandmarkRequest, ...]:
        """Every ROI to run FaceMesh on this frame (tracked faces first), not yet answered."""
        frame = self._require("requests")
        return tuple(self._request(t) for t in self._tracked if t.id not in frame.done)

    def submit_landmarks(self, face_id: int, raw_landmarks, face_flag) -> MeshFace | None:
        """FaceMesh's raw outputs for one request. Returns the face, or None when presence < min_presence
        (the face is dropped and the detector runs next frame)."""
        frame = self._require("submit_landmarks")
        track = next((t for t in self._tracked if t.id == face_id), None)
        if track is None:
            raise ValueError(f"no FaceMesh request with face id {face_id} this frame")
        presence = face_presence(face_flag)
        if presence < self.config.min_presence:
            frame.done[face_id] = None
            return None
        lm = landmarks_to_frame(raw_landmarks, track.roi, self.config.input_size)
        face = MeshFace(face_id, lm, presence, track.roi, track.source, track.tracked_frames + 1)
        frame.done[face_id] = face
        return face

    def end_frame(self) -> MeshResult:
        frame = self._require("end_frame")
        faces = []
        kept = []
        for t in self._tracked:
            face = frame.done.get(t.id)
            if face is None:
                continue                   # lost, or never run this frame: re-detect
            faces.append(face)
            kept.append(_Tracked(t.id, landmarks_roi(face.landmarks, frame.frame_size, scale=self.config.roi_scale),
                                 "landmarks", face.tracked_frames))
        self._tracked = kept
        self._frames += 1
        if frame.ran_detector:
            self._detector_runs += 1
            self._last_detector = frame.plan.frame_index
        self._frame = None
        return MeshResult(frame.plan.frame_index, frame.plan.timestamp_ms, tuple(faces), frame.ran_detector,
                          self._frames, self._detector_runs, frame.frame_size[0])

    # -- state ---------------------------------------------------------------
    def reset(self) -> None:
        """Forget the tracked faces (page hidden, camera switched); counters are kept."""
        self._tracked = []
        self._frame = None

    @property
    def detector_fraction(self) -> float:
        """Fraction of finished frames on which the detector ran."""
        return self._detector_runs / self._frames if self._frames else 0.0

    @property
    def frames(self) -> int:
        return self._frames

    @property
    def detector_runs(self) -> int:
        return self._detector_runs

    @property
    def in_frame(self) -> bool:
        return self._frame is not None

    # -- internals -----------------------------------------------------------
    def _require(self, what: str) -> _Frame:
        if self._frame is None:
            raise RuntimeError(f"{what}() outside a frame; call begin_frame() first")
        return self._frame

    def _request(self, t: _Tracked) -> LandmarkRequest:
        size = self.config.input_size
        return LandmarkRequest(t.id, t.roi, size, t.roi.projective_transform(size), t.source)
