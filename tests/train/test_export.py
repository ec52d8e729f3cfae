"""Export: SavedModel -> TF.js graph model (4 MB shards) + manifest entry; TF.js in Chromium gives Keras's boxes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from moodcam.detection.boxes import iou_matrix
from moodcam.detection.pipeline import FaceDetectorPostprocess
from tests.core.test_manifest_typed import valid_entry

pytestmark = pytest.mark.convert


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    from moodcam_tools.train.export import export_detector
    from moodcam_tools.train.train import RunFiles, load_trained

    run, result, _ = trained_run
    model, config = load_trained(run)
    models_dir = tmp_path_factory.mktemp("models")
    # An existing manifest with another model: the export must keep it.
    (models_dir / "manifest.json").write_text(json.dumps(
        {"format": "moodcam-models/1", "about": "test", "models": {"other": valid_entry("other", detector=False)}}))
    entry = export_detector(model, config, models_dir, "shapes", training={"coco": result["stats"], "init": "mediapipe"},
                            weights_file=RunFiles(run).best_weights)
    return models_dir, entry, model, config


def test_manifest_entry_carries_what_the_app_needs(exported):
    from moodcam_tools.convert.manifest import REQUIRED_MODEL_FIELDS, REQUIRED_SOURCE_FIELDS
    from moodcam_tools.train.export import spec_from_entry

    models_dir, entry, model, config = exported
    manifest = json.loads((models_dir / "manifest.json").read_text())
    assert set(manifest["models"]) == {"other", "shapes"}
    assert manifest["models"]["shapes"] == entry
    for field in REQUIRED_MODEL_FIELDS:
        assert field in entry, field
    for field in REQUIRED_SOURCE_FIELDS:
        assert field in entry["source"], field
    assert entry["labels"] == ["circle", "square", "triangle"]
    assert entry["input"]["shape"] == [1, 128, 128, 3] and entry["input"]["tensor"]
    assert entry["input"]["normalisation"] == {"formula": "(x-127.5)/127.5", "scale": 1 / 127.5, "offset": -1.0,
                                               "note": "x is the 0..255 pixel value; y = x*scale + offset"}
    outs = {o["key"]: o for o in entry["outputs"]}
    assert outs["regressors"]["shape"] == [1, 896, 4] and outs["classificators"]["shape"] == [1, 896, 3]
    assert entry["decoding"]["num_coords"] == 4 and entry["decoding"]["num_keypoints"] == 0
    assert entry["decoding"]["nms"]["algorithm"] == "hard"
    assert entry["anchors"]["num_anchors"] == 896
    spec = spec_from_entry(entry)
    assert spec == config.spec()
    # files: listed with sizes/hashes, shards no larger than 4 MB, nothing unlisted
    listed = {f["path"] for f in entry["files"]}
    on_disk = {p.relative_to(models_dir).as_posix() for p in (models_dir / "shapes").rglob("*") if p.is_file()}
    assert listed == on_disk
    for f in entry["files"]:
        assert (models_dir / f["path"]).stat().st_size == f["size"] <= 4 * 1024 * 1024
    model_json = json.loads((models_dir / "shapes" / "model.json").read_text())
    assert model_json["format"] == "graph-model"
    assert str(models_dir) not in (models_dir / "shapes" / "model.json").read_text()


def test_the_card_names_the_pretrained_start_and_its_licence(exported):
    from moodcam_tools.train.export import init_weights_notice

    models_dir = exported[0]
    card = (models_dir / "shapes" / "README.md").read_text()
    assert "- Started from: MediaPipe's BlazeFace backbone (face_detection_short_range.tflite, PyPI " \
           "mediapipe==0.10.21), Apache-2.0. This model is a modified version of those weights" in card
    objectron = init_weights_notice("objectron")
    assert "npm @mediapipe/objectron@0.4.1675468480" in objectron and "Apache-2.0 licence and its notice" in objectron
    assert init_weights_notice("none") is None and init_weights_notice(None) is None
    assert "under that file's own licence" in init_weights_notice("/x/face_detection_short_range.tflite")


def test_reexport_replaces_the_folder(exported):
    from moodcam_tools.train.export import export_detector

    models_dir, entry, model, config = exported
    stale = models_dir / "shapes" / "stale.bin"
    stale.write_bytes(b"x")
    again = export_detector(model, config, models_dir, "shapes", training={})
    assert not stale.exists()
    assert [f["sha256"] for f in again["files"] if f["role"] != "card"] == \
           [f["sha256"] for f in entry["files"] if f["role"] != "card"]      # conversion is deterministic
    assert not list(models_dir.glob(".shapes-*"))


def test_bad_names_are_refused(tmp_path):
    from moodcam_tools.errors import BuildError
    from moodcam_tools.train.export import check_name

    for bad in ("", "Shapes", "a b", "../x", "_x"):
        with pytest.raises(BuildError):
            check_name(bad)
    assert check_name("shapes_v2") == "shapes_v2"


def _val_images(synthetic_sets, n=8):
    from moodcam_tools.train.datasets import load_split, read_image

    _, val, _ = load_split(synthetic_sets["yolo"], "yolo")
    return [read_image(s.image_path) for s in val.samples[:n]]


@pytest.mark.browser
def test_tfjs_in_chromium_gives_the_keras_boxes(exported, synthetic_sets):
    from moodcam_tools.train.evaluate import Predictor, keras_raw_fn
    from moodcam_tools.train.export import spec_from_entry
    from tests.models.parity_support import run_tfjs

    models_dir, entry, model, config = exported
    images = _val_images(synthetic_sets)
    predictor = Predictor(keras_raw_fn(model), config)
    prepared = [predictor.prepare(im) for im in images]
    x = np.stack([p[0] for p in prepared])
    keras_reg, keras_cls = predictor.raw_fn(x)
    outs = {o["key"]: o["tensor"] for o in entry["outputs"]}
    job = {"name": "shapes", "model": "shapes", "input_tensor": entry["input"]["tensor"],
           "outputs": [outs["regressors"], outs["classificators"]], "x": x, "batch": 1}
    results = run_tfjs(models_dir, [job], ["wasm", "webgl"])
    post = FaceDetectorPostprocess(spec_from_entry(entry))       # what the app builds from the manifest
    n, c = x.shape[0], config.num_classes
    for backend, res in results.items():
        reg, cls = res["jobs"]["shapes"]["outputs"]
        reg, cls = reg.reshape(n, -1, 4), cls.reshape(n, -1, c)
        raw_err = max(np.abs(reg - keras_reg).max(), np.abs(cls - keras_cls).max())
        ious, total = [], 0
        for i, (_, lb) in enumerate(prepared):
            a = post(keras_reg[i], keras_cls[i], lb)
            b = post(reg[i], cls[i], lb)
            assert len(a) == len(b), (backend, i, a.scores, b.scores)
            np.testing.assert_array_equal(a.labels, b.labels)
            if len(a):
                iou = np.diag(iou_matrix(a.boxes, b.boxes))
                ious += list(iou)
                total += len(a)
        print(f"\n{backend}: {total} boxes on {n} images, min IoU Keras vs TF.js {min(ious):.5f}, "
              f"max raw output difference {raw_err:.2e}, {res['jobs']['shapes']['ms'] / n:.1f} ms per image "
              f"({res['info']})")
        assert total >= n
        assert min(ious) >= 0.99, (backend, ious)


def test_fitted_anchors_travel_through_the_manifest(tmp_path):
    """The app's anchor generator, fed the exported entry, makes exactly the anchors the trainer used."""
    import keras

    from moodcam.detection.anchors import generate_anchors
    from moodcam_tools.train.export import export_detector, spec_from_entry
    from moodcam_tools.train.model import DetectorConfig, build_model
    from moodcam_tools.train.targets import AnchorMatcher

    config = DetectorConfig(("tall", "wide"), input_size=128, box_coding="ssd", aspect_ratios=(0.35, 1.0, 2.6),
                            min_scale=0.175, max_scale=0.825, nms="weighted", nms_iou=0.55)
    keras.utils.set_random_seed(0)
    entry = export_detector(build_model(config), config, tmp_path, "fitted", log=lambda *_: None)
    saved = json.loads((tmp_path / "manifest.json").read_text())["models"]["fitted"]
    assert saved["anchors"]["aspect_ratios"] == [0.35, 1.0, 2.6] and saved["anchors"]["fixed_anchor_size"] is False
    assert saved["decoding"]["apply_exponential_on_box_size"] is True
    spec = spec_from_entry(saved)
    assert spec == config.spec() and saved["decoding"]["nms"]["algorithm"] == "weighted"   # the app blends too
    assert "weighted NMS at IoU 0.55" in (tmp_path / "fitted" / "README.md").read_text()
    trainer = AnchorMatcher(config.anchor_options, config.decode_options()).anchors
    np.testing.assert_array_equal(generate_anchors(spec.anchors), trainer)
    assert spec.decode == config.decode_options() and trainer.shape[0] == saved["anchors"]["num_anchors"]
    outs = {o["key"]: o["shape"] for o in entry["outputs"]}
    assert outs["regressors"] == [1, trainer.shape[0], 4]
    assert "x 4 anchors" in saved["anchors"]["layout"] and "exp(" in saved["decoding"]["formula"]


@pytest.mark.browser
@pytest.mark.parametrize("strides", [None, (8, 16)], ids=["strides-16-32", "strides-8-16"])
def test_the_default_mobilenet_export_runs_in_tfjs_as_in_keras(strides, synthetic_sets, tmp_path):
    """The defaults' graph (MobileNetV2 trunk at 256 px, either head layout): exported, run by TF.js on wasm and
    WebGL, it gives Keras's raw outputs, and the app's generator makes the trainer's anchors from its entry."""
    import keras

    from moodcam.detection.anchors import generate_anchors
    from moodcam_tools.convert.tflite_reader import read_tflite
    from moodcam_tools.train.backbones import load_trunk_weights, objectron_ssd_tflite
    from moodcam_tools.train.evaluate import Predictor, keras_raw_fn
    from moodcam_tools.train.export import export_detector, spec_from_entry
    from moodcam_tools.train.model import DetectorConfig, build_model
    from moodcam_tools.train.targets import AnchorMatcher
    from tests.models.parity_support import run_tfjs

    config = DetectorConfig(("tree",), input_size=256, backbone="mobilenetv2_oidv4", box_coding="ssd",
                            min_scale=0.075, max_scale=0.225, nms="weighted", nms_iou=0.6, head_strides=strides)
    keras.utils.set_random_seed(0)
    model = build_model(config)
    # Real trunk weights (Open Images) and heads with weights large enough that every output varies.
    load_trunk_weights(model, read_tflite(objectron_ssd_tflite()))
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.name.startswith(("regressor_", "classificator_")):
            kernel, bias = layer.get_weights()
            layer.set_weights([rng.normal(0, 0.05, kernel.shape).astype(np.float32), bias])
    entry = export_detector(model, config, tmp_path, "trees", log=lambda *_: None)
    spec = spec_from_entry(entry)
    np.testing.assert_array_equal(generate_anchors(spec.anchors),
                                  AnchorMatcher(config.anchor_options, config.decode_options()).anchors)
    assert entry["anchors"]["num_anchors"] == (3584 if strides else 896)
    predictor = Predictor(keras_raw_fn(model), config)
    x = np.stack([predictor.prepare(im)[0] for im in _val_images(synthetic_sets, 2)])
    keras_reg, keras_cls = predictor.raw_fn(x)
    assert min(keras_reg.std(), keras_cls.std()) > 0.05                  # outputs that vary, so the check means something
    outs = {o["key"]: o["tensor"] for o in entry["outputs"]}
    job = {"name": "trees", "model": "trees", "input_tensor": entry["input"]["tensor"],
           "outputs": [outs["regressors"], outs["classificators"]], "x": x, "batch": 1}
    for backend, res in run_tfjs(tmp_path, [job], ["wasm", "webgl"]).items():
        reg, cls = (o.reshape(k.shape) for o, k in zip(res["jobs"]["trees"]["outputs"], (keras_reg, keras_cls)))
        # Relative to how much each output varies over anchors and images (not to the class prior's constant
        # bias), so a wrong trunk op shows.
        err = max(np.abs(reg - keras_reg).max() / keras_reg.std(), np.abs(cls - keras_cls).max() / keras_cls.std())
        print(f"\n{backend}: max raw output difference {err:.2e} of the outputs' spread, "
              f"{res['jobs']['trees']['ms'] / len(x):.1f} ms per image ({res['info']})")
        assert err < 1e-3, (backend, err)
