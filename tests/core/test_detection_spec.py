"""moodcam.detection.spec: a manifest detector entry -> DetectorSpec (what the app decodes a custom model with)."""
import copy

import numpy as np
import pytest

from moodcam.detection.anchors import generate_anchors
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.detection.letterbox import Letterbox
from moodcam.detection.pipeline import BLAZEFACE_SHORT_RANGE_SPEC, FaceDetectorPostprocess
from moodcam.detection.spec import EntryError, detector_names, entry_labels, is_detector_entry, spec_from_entry

# The blocks `build.py train-detector` writes (moodcam_tools.train.export), 3 classes, 128 px.
CUSTOM = {
    "task": "object_detection",
    "labels": ["circle", "square", "triangle"],
    "anchors": {"anchor_offset_x": 0.5, "anchor_offset_y": 0.5, "aspect_ratios": [1.0],
                "calculator": "SsdAnchorsCalculator", "feature_map_height": [], "feature_map_width": [],
                "fixed_anchor_size": True, "input_size_height": 128, "input_size_width": 128,
                "interpolated_scale_aspect_ratio": 1.0, "layout": "...", "max_scale": 0.75,
                "min_scale": 0.1484375, "num_anchors": 896, "num_layers": 4,
                "reduce_boxes_in_lowest_layer": False, "strides": [8, 16, 16, 16]},
    "decoding": {"apply_exponential_on_box_size": False, "box_coord_offset": 0, "box_format": "xywh",
                 "formula": "...", "h_scale": 128.0, "keypoint_coord_offset": 4, "keypoints": [],
                 "min_score_thresh": 0.5, "nms": {"algorithm": "hard", "class_agnostic": True,
                                                  "min_suppression_threshold": 0.3,
                                                  "overlap_type": "intersection_over_union"},
                 "num_boxes": 896, "num_classes": 3, "num_coords": 4, "num_keypoints": 0,
                 "num_values_per_keypoint": 2, "reverse_output_order": True, "score_clipping_thresh": 100.0,
                 "sigmoid_score": True, "w_scale": 128.0, "x_scale": 128.0, "y_scale": 128.0},
}


def test_custom_entry_gives_its_spec():
    spec = spec_from_entry(CUSTOM)
    assert spec.input_size == (128, 128)
    assert spec.decode.num_classes == 3 and spec.decode.num_coords == 4 and spec.decode.num_keypoints == 0
    assert spec.nms.algorithm == "hard" and spec.nms.min_score == 0.5
    assert spec.anchors.strides == (8, 16, 16, 16)
    assert spec.anchors == BLAZEFACE_SHORT_RANGE_SPEC.anchors     # same SSD layout as BlazeFace
    assert entry_labels(CUSTOM) == ("circle", "square", "triangle")


def test_min_score_override():
    spec = spec_from_entry(CUSTOM, min_score=0.8)
    assert spec.decode.min_score_thresh == 0.8 and spec.nms.min_score == 0.8


def test_decodes_labelled_boxes_with_hard_nms():
    spec = spec_from_entry(CUSTOM)
    anchors = generate_anchors(spec.anchors)
    lb = Letterbox.fit(320, 240, 128, 128)
    boxes_px = np.array([[20, 30, 100, 110], [180, 60, 300, 200]], float)
    norm = lb.boxes_to_target(boxes_px) / 128.0
    ids = anchors_near(anchors, norm, 3)              # (2, 3): three anchors fire per object
    rows = np.repeat(norm, 3, axis=0) + np.tile([[0, 0, 0, 0], [0.003, 0, 0.003, 0], [0, 0.003, 0, 0.003]], (2, 1))
    raw, _ = encode_raw_outputs(anchors, ids.reshape(-1), rows, np.zeros((6, 0, 2)), np.zeros(6), spec.decode)
    scores = np.full((896, 3), -20.0, np.float32)
    scores[ids[0], 2] = [4.0, 3.0, 2.0]               # triangle
    scores[ids[1], 1] = [5.0, 1.0, 0.5]               # square
    det = FaceDetectorPostprocess(spec)(raw[None], scores[None], lb)
    assert len(det) == 2                               # hard NMS: one box per object, none blended
    order = np.argsort(det.boxes[:, 0])
    assert [CUSTOM["labels"][i] for i in det.labels[order]] == ["triangle", "square"]
    np.testing.assert_allclose(det.boxes[order], boxes_px, atol=1.5)
    assert det.keypoints.shape == (2, 0, 2)


@pytest.mark.parametrize("breakage", ["no_anchors", "no_nms", "labels", "anchors_count", "bad_algorithm"])
def test_broken_entries_raise_entry_error_saying_what(breakage):
    e = copy.deepcopy(CUSTOM)
    if breakage == "no_anchors":
        del e["anchors"]
    elif breakage == "no_nms":
        del e["decoding"]["nms"]
    elif breakage == "labels":
        e["labels"] = ["circle"]
    elif breakage == "anchors_count":
        e["decoding"]["num_boxes"] = 100
    else:
        e["decoding"]["nms"]["algorithm"] = "soft"
    with pytest.raises(EntryError) as info:
        spec_from_entry(e)
    assert str(info.value)


def test_detector_entries_are_recognised():
    models = {"shapes_demo": CUSTOM, "blazeface_short_range": {"task": "face_detection", **CUSTOM},
              "emotion": {"task": "image_classification"}, "broken": {"task": "object_detection"}}
    models["blazeface_short_range"]["task"] = "face_detection"
    assert detector_names(models) == ["shapes_demo"]
    assert is_detector_entry(CUSTOM) and not is_detector_entry({"task": "object_detection"})
    assert entry_labels({"decoding": {"num_classes": 1}}) == ("object",)
