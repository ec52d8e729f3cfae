"""moodcam.manifest: models/manifest.json parsed once into typed entries; unknown keys are errors.

Pure (also run inside Pyodide by tests/pyodide, which copies models/manifest.json
next to this folder as in the repo, so the shipped-manifest tests run there too).
"""
import copy
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from moodcam.detection.pipeline import BLAZEFACE_SHORT_RANGE_SPEC
from moodcam.detection.spec import detector_names as raw_detector_names
from moodcam.manifest import FORMAT, ManifestError, Manifest, ModelFile, parse_entry, parse_manifest

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "manifest.json"
SHA = "0" * 64


def valid_entry(name: str = "shapes", *, detector: bool = True) -> dict:
    """A small entry the app accepts: a 3-class 128 px SSD detector (or, detector=False, a classifier)."""
    entry = {
        "task": "object_detection" if detector else "emotion_classification",
        "summary": "test model",
        "format": "tfjs_graph_model",
        "model_json": f"{name}/model.json",
        "card": f"{name}/README.md",
        "input": {"key": "input", "tensor": "input:0", "shape": [1, 128, 128, 3], "size": [128, 128],
                  "color": "RGB", "dtype": "float32", "layout": "NHWC",
                  "normalisation": {"scale": 1 / 127.5, "offset": -1.0, "formula": "(x-127.5)/127.5"}},
        "outputs": [{"key": "classificators", "tensor": "Identity:0", "shape": [1, 896, 3], "dtype": "float"},
                    {"key": "regressors", "tensor": "Identity_1:0", "shape": [1, 896, 4], "dtype": "float"}],
        "output_order": ["classificators", "regressors"],
        "labels": ["circle", "square", "triangle"],
        "files": [{"path": f"{name}/model.json", "role": "graph", "sha256": SHA, "size": 2},
                  {"path": f"{name}/group1-shard1of1.bin", "role": "weights", "sha256": SHA, "size": 16},
                  {"path": f"{name}/README.md", "role": "card", "sha256": SHA, "size": 4}],
    }
    if detector:
        entry["anchors"] = {"calculator": "SsdAnchorsCalculator", "input_size_width": 128,
                            "input_size_height": 128, "num_layers": 4, "strides": [8, 16, 16, 16],
                            "min_scale": 0.1484375, "max_scale": 0.75, "anchor_offset_x": 0.5,
                            "anchor_offset_y": 0.5, "aspect_ratios": [1.0], "fixed_anchor_size": True,
                            "interpolated_scale_aspect_ratio": 1.0, "reduce_boxes_in_lowest_layer": False,
                            "feature_map_height": [], "feature_map_width": [], "num_anchors": 896, "layout": "..."}
        entry["decoding"] = {"num_classes": 3, "num_boxes": 896, "num_coords": 4, "box_coord_offset": 0,
                             "box_format": "xywh", "keypoint_coord_offset": 4, "num_keypoints": 0,
                             "num_values_per_keypoint": 2, "keypoints": [], "x_scale": 128.0, "y_scale": 128.0,
                             "w_scale": 128.0, "h_scale": 128.0, "apply_exponential_on_box_size": False,
                             "reverse_output_order": True, "sigmoid_score": True, "score_clipping_thresh": 100.0,
                             "min_score_thresh": 0.5, "formula": "...",
                             "nms": {"algorithm": "hard", "min_suppression_threshold": 0.3,
                                     "overlap_type": "intersection_over_union", "class_agnostic": True}}
    else:
        entry["input"].update(shape=[-1, 64, 64, 1], size=[64, 64], color="grey")
        entry["outputs"] = [{"key": "probabilities", "tensor": "Identity:0", "shape": [-1, 3]}]
        entry["output_order"] = ["probabilities"]
    return entry


def manifest_of(**models) -> dict:
    return {"format": FORMAT, "about": "test", "models": models}


@pytest.fixture(scope="module")
def shipped() -> Manifest:
    if not SHIPPED.is_file():
        pytest.skip(f"{SHIPPED} is not here (tests/pyodide copies it next to tests/core)")
    return parse_manifest(SHIPPED.read_bytes())


def _error(data, *needles) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        parse_manifest(data)
    for needle in needles:
        assert needle in str(info.value), (needle, str(info.value))
    return info.value


# -- the shipped manifest ------------------------------------------------------------------------------
def test_shipped_manifest_parses(shipped):
    assert {"blazeface_short_range", "emotion_mini_xception", "face_landmark"} <= set(shipped.models)
    assert "face_landmark" in shipped and "nope" not in shipped and shipped.get("nope") is None
    for name, entry in shipped.models.items():
        assert entry.name == name and entry.summary
        assert entry.graph_file.path == f"{name}/model.json"
        assert [f.role for f in entry.files_for("graph", "weights")][0] == "graph"
        assert "card" not in {f.role for f in entry.files_for("graph", "weights")}


def test_blazeface_entry(shipped):
    e = shipped.require("blazeface_short_range", "face_detection")
    assert (e.input.width, e.input.height) == (128, 128) and not e.input.grey
    assert e.input.normalisation.scale == pytest.approx(1 / 127.5) and e.input.normalisation.offset == -1.0
    assert e.input.warmup_shape() == (1, 128, 128, 3)
    assert set(e.outputs) == {"regressors", "classificators"}
    assert e.output("regressors") == "Identity_1:0" and e.output("classificators") == "Identity:0"
    assert e.is_detector and not e.is_custom_detector
    assert e.detector_spec() == BLAZEFACE_SHORT_RANGE_SPEC       # face mode can use the manifest's spec
    strict = e.detector_spec(min_score=0.7)
    assert strict.decode.min_score_thresh == 0.7 and strict.nms.min_score == 0.7
    assert strict.anchors == BLAZEFACE_SHORT_RANGE_SPEC.anchors


def test_emotion_entry(shipped):
    e = shipped.require("emotion_mini_xception")
    assert (e.input.width, e.input.height) == (64, 64) and e.input.grey
    assert e.input.shape == (-1, 64, 64, 1) and e.input.warmup_shape() == (1, 64, 64, 1)
    assert e.labels == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert dict(e.outputs) == {"features": "Identity:0", "probabilities": "Identity_1:0"} and not e.is_detector
    assert e.feature_size == 128                    # the calibration head's input (issue 15)
    graph_and_weights = [f.sha256 for f in e.files if f.role in ("graph", "weights")]
    assert len(graph_and_weights) == 2 and len(e.model_sha256) == 64
    expected = hashlib.sha256("".join(f"{h}\n" for h in graph_and_weights).encode()).hexdigest()
    assert e.model_sha256 == expected               # one id for both files
    assert shipped.require("blazeface_short_range").feature_size is None
    with pytest.raises(ManifestError, match="not a detector"):
        e.detector_spec()


def test_face_landmark_entry(shipped):
    e = shipped.require("face_landmark", "face_landmarks")
    assert (e.input.width, e.input.height) == (192, 192) and not e.input.grey
    assert e.input.normalisation.scale == pytest.approx(1 / 255) and e.input.normalisation.offset == 0.0
    assert set(e.outputs) == {"landmarks", "face_flag"}
    assert e.output_specs["landmarks"].reshape == (468, 3)
    assert isinstance(e.parts, dict) and "lips" in e.parts
    assert e.details["num_landmarks"] == 468


def test_custom_detectors(shipped):
    raw = json.loads(SHIPPED.read_text())["models"]
    assert shipped.detector_names() == raw_detector_names(raw)
    if "shapes_demo" in shipped:
        e = shipped.require("shapes_demo", "object_detection")
        assert e.labels == ("circle", "square", "triangle") and e.class_names == e.labels
        assert e.is_custom_detector and e.detector_spec().decode.num_classes == 3


def test_descriptive_keys_are_kept_in_details(shipped):
    e = shipped["blazeface_short_range"]
    assert e.details["licence"] == "Apache-2.0" and "anchors" in e.details and "source" in e.details


# -- parsing rules -------------------------------------------------------------------------------------
def test_bytes_text_mapping_and_list_forms_agree():
    data = manifest_of(shapes=valid_entry())
    text = json.dumps(data)
    listed = {**data, "models": [{"name": "shapes", **valid_entry()}]}
    parsed = [parse_manifest(text), parse_manifest(text.encode()), parse_manifest(data), parse_manifest(listed)]
    assert all(m == parsed[0] for m in parsed)
    assert parsed[0]["shapes"].detector_spec().decode.num_classes == 3


def test_entries_are_frozen():
    e = parse_manifest(manifest_of(shapes=valid_entry()))["shapes"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.task = "x"
    with pytest.raises(TypeError):
        e.outputs["regressors"] = "y"


def test_classifier_entry():
    e = parse_entry("emo", valid_entry("emo", detector=False))
    assert e.input.grey and e.input.warmup_shape() == (1, 64, 64, 1) and not e.is_detector
    assert e.class_names == e.labels


UNKNOWN_KEY_AT = {
    "entry": (lambda e: e, "speling", "'speling'"),
    "input": (lambda e: e["input"], "colour", "input.colour"),
    "normalisation": (lambda e: e["input"]["normalisation"], "scael", "input.normalisation.scael"),
    "output": (lambda e: e["outputs"][1], "shap", "outputs[1].shap"),
    "file": (lambda e: e["files"][2], "sha", "files[2].sha"),
    "anchors": (lambda e: e["anchors"], "stride", "anchors.stride"),
    "decoding": (lambda e: e["decoding"], "min_score_tresh", "decoding.min_score_tresh"),
    "nms": (lambda e: e["decoding"]["nms"], "iou", "decoding.nms.iou"),
}


@pytest.mark.parametrize("level", sorted(UNKNOWN_KEY_AT))
def test_unknown_key_is_an_error_that_names_it(level):
    pick, key, path = UNKNOWN_KEY_AT[level]
    entry = valid_entry()
    pick(entry)[key] = 1
    error = _error(manifest_of(shapes=entry), "'shapes'", path, "unknown key", "re-export the detector")
    assert error.model == "shapes" and error.key.endswith(key)


def test_unknown_top_level_key_and_wrong_format():
    _error({**manifest_of(shapes=valid_entry()), "modles": {}}, "unknown key 'modles'")
    _error({**manifest_of(shapes=valid_entry()), "format": "moodcam-models/0"}, "format", FORMAT)
    _error({"format": FORMAT}, "no 'models'")
    _error(b"{not json", "not JSON")


def test_fix_names_the_command_that_wrote_the_entry():
    entry = valid_entry("emo", detector=False)
    entry["input"]["normalisation"]["scle"] = 1
    _error(manifest_of(emo=entry), "rebuild with python3 build.py models")


@pytest.mark.parametrize("path", ["../outside.bin", "/etc/x.bin", "a/../../b.bin", "a//b.bin", "./a.bin",
                                  "c:/x.bin", "a\\b.bin", ""])
def test_file_paths_stay_inside_models(path):
    entry = valid_entry()
    entry["files"][1]["path"] = path
    _error(manifest_of(shapes=entry), "files[1].path")


@pytest.mark.parametrize("change, needle", [
    (lambda e: e.pop("input"), "'input'"),
    (lambda e: e.update(files={"model.json": SHA}), "files"),                 # the old {name: sha256} form
    (lambda e: e["files"][0].update(role="weights"), "role 'graph'"),
    (lambda e: e["files"][1].update(role="weight"), "unknown role 'weight'"),
    (lambda e: e["files"][1].update(sha256="ABC"), "sha256"),
    (lambda e: e["files"][1].update(size=-1), "files[1].size"),
    (lambda e: e["files"].append(dict(e["files"][1])), "listed twice"),
    (lambda e: e.update(task="object_detecton"), "unknown task"),
    (lambda e: e.update(format="tfjs_layers_model"), "tfjs_graph_model"),
    (lambda e: e["input"]["normalisation"].update(scale="1/127.5"), "input.normalisation.scale"),
    (lambda e: e["input"].update(size=[64, 64]), "input.size"),
    (lambda e: e["input"].update(color="grey"), "channel"),
    (lambda e: e["outputs"][1].update(key="classificators"), "listed twice"),
    (lambda e: e.update(output_order=["regressors", "classificators"]), "output_order"),
    (lambda e: e.update(labels=["circle"]), "1 labels for 3 classes"),
    (lambda e: e.pop("decoding"), "decoding"),
    (lambda e: (e.pop("decoding"), e.pop("anchors")), "needs 'anchors' and 'decoding'"),
    (lambda e: e["anchors"].update(num_anchors=100), "anchors.num_anchors"),
])
def test_bad_entries_fail_naming_the_key(change, needle):
    entry = valid_entry()
    change(entry)
    _error(manifest_of(shapes=entry), "'shapes'", needle)


def test_require_and_output_messages():
    m = parse_manifest(manifest_of(shapes=valid_entry(), emo=valid_entry("emo", detector=False)))
    with pytest.raises(ManifestError) as info:
        m.require("blazeface_short_range")
    assert "no model 'blazeface_short_range'" in str(info.value) and "emo, shapes" in str(info.value)
    assert "build.py models" in str(info.value)
    with pytest.raises(ManifestError) as info:
        m.require("emo", task="object_detection")
    assert "'emotion_classification'" in str(info.value) and "shapes" in str(info.value)
    with pytest.raises(ManifestError) as info:
        m["nope"]
    assert "nope" in str(info.value)
    with pytest.raises(ManifestError) as info:
        m["shapes"].output("boxes")
    assert "'boxes'" in str(info.value) and "classificators, regressors" in str(info.value)
    assert m.detector_names() == ["shapes"]
    assert isinstance(info.value, ValueError)


def test_files_by_role():
    e = parse_entry("shapes", copy.deepcopy(valid_entry()))
    assert e.graph_file == ModelFile("shapes/model.json", "graph", SHA, 2)
    assert [f.path for f in e.files_for("graph", "weights")] == ["shapes/model.json", "shapes/group1-shard1of1.bin"]
    assert [f.role for f in e.files_for("card")] == ["card"]
    with pytest.raises(ValueError):
        e.files_for("cards")
