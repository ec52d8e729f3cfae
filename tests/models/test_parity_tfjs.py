"""The committed TF.js models, run in headless Chromium (wasm and webgl), match
the original models on the same inputs, real photos included.

References run in subprocesses, one framework each (TensorFlow and a TFLite
interpreter crash in one process): the TFLite interpreter for BlazeFace and
FaceMesh, Keras for the emotion net. Thresholds (issue 3):
  - BlazeFace raw outputs max abs error <= 1e-3; top box IoU >= 0.99
  - BlazeFace full range (issue 12) raw outputs max abs error <= 1e-3 on the photos and the
    composed group scenes; after decoding and NMS the same faces, box IoU >= 0.99
  - FaceMesh raw outputs max abs error <= 1e-3 (landmarks are in 192-px input pixels);
    issue 7: max 2-D landmark error <= 1 px at 192 px on the astronaut crops
  - emotion: same top-1 on every crop, max abs probability error <= 5e-3
  - emotion `features` (issue 15): the pooled add_4 map, Keras's layer output averaged in numpy,
    max abs error <= 1e-4, and the probabilities within 1e-4 too (the issue's bound for both outputs)
Measured figures are printed and written to test-results/parity_tfjs.json.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tests.models import parity_support as ps

pytestmark = [pytest.mark.browser, pytest.mark.convert]

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
BACKENDS = ["wasm", "webgl"]


def _require() -> None:
    for module in ("tensorflow", "playwright", "skimage"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (needs the convert and test extras)")
    if not Path(ps.chromium_path()).exists():
        pytest.skip("Debian chromium is not installed")
    if not ps.TFJS.exists():
        pytest.skip("node_modules/@tensorflow/tfjs is missing (run npm ci)")


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    _require()
    from moodcam_tools import paths
    from moodcam_tools.convert import reference, sources, specs

    work = tmp_path_factory.mktemp("parity")
    extracted = sources.prepare([s.source for s in specs.MODELS], paths.downloads_dir(), work / "sources")
    manifest = ps.manifest(MODELS)["models"]

    cases = {
        "blazeface_short_range": (specs.BLAZEFACE, *ps.blazeface_inputs(), "tflite", 1),
        "blazeface_full_range": (specs.BLAZEFACE_FULL_RANGE, *ps.blazeface_full_range_inputs(), "tflite", 1),
        "face_landmark": (specs.FACE_LANDMARK, *ps.face_landmark_inputs(), "tflite", 1),
        "emotion_mini_xception": (specs.EMOTION, *ps.emotion_inputs(), "keras", 32),
    }
    refs, jobs = {}, []
    for name, (spec, x, labels, kind, batch) in cases.items():
        out = reference.run_in_subprocess(kind, extracted[spec.source.member], x, work / "ref")
        # reference name -> our output key
        mapping = {"output": "probabilities", "features": "features"} if kind == "keras" else spec.output_names
        refs[name] = {mapping[k]: v.reshape(len(x), -1) for k, v in out.items()}
        entry = manifest[name]
        jobs.append({"name": name, "model": name, "x": x, "batch": batch,
                     "input_tensor": entry["input"]["tensor"],
                     "outputs": [o["tensor"] for o in entry["outputs"]],
                     "keys": [o["key"] for o in entry["outputs"]], "labels": labels})
    got = ps.run_tfjs(MODELS, jobs, BACKENDS)
    results = {}
    for backend, run in got.items():
        results[backend] = {"info": run["info"]}
        for job in jobs:
            outs = dict(zip(job["keys"], run["jobs"][job["name"]]["outputs"]))
            results[backend][job["name"]] = {"ms": run["jobs"][job["name"]]["ms"], "outputs": outs}
    return {"refs": refs, "tfjs": results, "jobs": {j["name"]: j for j in jobs}}


_figures: dict = {}


def _record(backend: str, model: str, **figures) -> None:
    _figures.setdefault(backend, {})[model] = figures
    print(f"[parity] {backend} {model}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    out = REPO / "test-results"
    out.mkdir(exist_ok=True)
    (out / "parity_tfjs.json").write_text(json.dumps(_figures, indent=2, sort_keys=True) + "\n")


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


@pytest.mark.parametrize("backend", BACKENDS)
def test_blazeface_matches_tflite(parity, backend):
    from moodcam.detection.anchors import BLAZEFACE_SHORT_RANGE, generate_anchors
    from moodcam.detection.boxes import iou_matrix
    from moodcam.detection.decode import DecodeOptions, decode

    ref = parity["refs"]["blazeface_short_range"]
    got = parity["tfjs"][backend]["blazeface_short_range"]["outputs"]
    labels = parity["jobs"]["blazeface_short_range"]["labels"]
    errors = {k: _max_abs(ref[k], got[k]) for k in ("regressors", "classificators")}

    anchors = generate_anchors(BLAZEFACE_SHORT_RANGE)
    assert anchors.shape == (896, 4)
    everything = DecodeOptions(min_score_thresh=None)
    ious, faces = {}, 0
    for i, label in enumerate(labels):
        a = decode(ref["regressors"][i].reshape(896, 16), ref["classificators"][i].reshape(896, 1), anchors,
                   everything)
        b = decode(got["regressors"][i].reshape(896, 16), got["classificators"][i].reshape(896, 1), anchors,
                   everything)
        ia, ib = int(np.argmax(a.scores)), int(np.argmax(b.scores))
        if a.scores[ia] < 0.5:
            assert b.scores[ib] < 0.5, f"{label}: TF.js finds a face the original does not"
            continue
        faces += 1
        ious[label] = float(iou_matrix(a.boxes[ia:ia + 1], b.boxes[ib:ib + 1])[0, 0])
    _record(backend, "blazeface_short_range", max_abs_regressors=f"{errors['regressors']:.2e}",
            max_abs_classificators=f"{errors['classificators']:.2e}",
            min_iou=f"{min(ious.values()):.5f}", faces=faces, inputs=len(labels),
            ms_total=round(parity["tfjs"][backend]["blazeface_short_range"]["ms"], 1))
    assert faces >= 4, "the real photos should give faces"
    assert errors["regressors"] <= 1e-3 and errors["classificators"] <= 1e-3, errors
    assert min(ious.values()) >= 0.99, ious


@pytest.mark.parametrize("backend", BACKENDS)
def test_blazeface_full_range_matches_tflite(parity, backend):
    from moodcam.detection import BLAZEFACE_FULL_RANGE_SPEC, FaceDetectorPostprocess
    from moodcam.detection.boxes import iou_matrix

    ref = parity["refs"]["blazeface_full_range"]
    got = parity["tfjs"][backend]["blazeface_full_range"]["outputs"]
    labels = parity["jobs"]["blazeface_full_range"]["labels"]
    errors = {k: _max_abs(ref[k], got[k]) for k in ("regressors", "classificators")}
    post = FaceDetectorPostprocess(BLAZEFACE_FULL_RANGE_SPEC)
    ious, counts = [], {}
    for i, label in enumerate(labels):
        a = post.to_model_space(ref["regressors"][i].reshape(2304, 16), ref["classificators"][i].reshape(2304, 1))
        b = post.to_model_space(got["regressors"][i].reshape(2304, 16), got["classificators"][i].reshape(2304, 1))
        assert len(a) == len(b), f"{label}: the original finds {len(a)} faces, TF.js {len(b)}"
        counts[label] = len(a)
        if len(a):
            iou = iou_matrix(a.boxes, b.boxes)
            ious.append(float(iou.max(axis=1).min()))
    _record(backend, "blazeface_full_range", max_abs_regressors=f"{errors['regressors']:.2e}",
            max_abs_classificators=f"{errors['classificators']:.2e}",
            min_iou=f"{min(ious):.5f}", faces=counts, inputs=len(labels),
            ms_total=round(parity["tfjs"][backend]["blazeface_full_range"]["ms"], 1))
    assert counts["scene-group4"] == 4 and counts["scene-no_face"] == 0 and counts["noise"] == 0, counts
    assert errors["regressors"] <= 1e-3 and errors["classificators"] <= 1e-3, errors
    assert min(ious) >= 0.99, ious


@pytest.mark.parametrize("backend", BACKENDS)
def test_face_landmark_matches_tflite(parity, backend):
    ref = parity["refs"]["face_landmark"]
    got = parity["tfjs"][backend]["face_landmark"]["outputs"]
    labels = parity["jobs"]["face_landmark"]["labels"]
    errors = {k: _max_abs(ref[k], got[k]) for k in ("landmarks", "face_flag")}
    # The landmarks output is in input pixels of the 192 x 192 crop (x, y, z per point): the
    # issue's bound is on the 2-D point distance, at 192 px, on the astronaut crops.
    astro = [i for i, label in enumerate(labels) if label.startswith("astronaut")]
    assert astro, labels
    d = (ref["landmarks"][astro].reshape(len(astro), 468, 3)[..., :2].astype(np.float64)
         - got["landmarks"][astro].reshape(len(astro), 468, 3)[..., :2])
    px = float(np.linalg.norm(d, axis=-1).max())
    _record(backend, "face_landmark", max_abs_landmarks=f"{errors['landmarks']:.2e}",
            max_landmark_error_px_at_192_astronaut=f"{px:.2e}",
            max_abs_face_flag=f"{errors['face_flag']:.2e}",
            face_flag_logits=[round(float(v), 2) for v in ref["face_flag"].ravel()],
            ms_total=round(parity["tfjs"][backend]["face_landmark"]["ms"], 1))
    assert float(ref["face_flag"].max()) > 5, "the astronaut crops hold a clear face; the original should say so"
    assert errors["landmarks"] <= 1e-3 and errors["face_flag"] <= 1e-3, errors
    assert px <= 1.0, f"max landmark error {px} px at 192 px on the astronaut crops"


@pytest.mark.parametrize("backend", BACKENDS)
def test_emotion_matches_keras(parity, backend):
    ref = parity["refs"]["emotion_mini_xception"]["probabilities"]
    got = parity["tfjs"][backend]["emotion_mini_xception"]["outputs"]["probabilities"]
    labels = parity["jobs"]["emotion_mini_xception"]["labels"]
    error = _max_abs(ref, got)
    agree = ref.argmax(1) == got.argmax(1)
    top = np.sort(ref, axis=1)
    _record(backend, "emotion_mini_xception", max_abs_probability=f"{error:.2e}",
            top1_agreement=f"{int(agree.sum())}/{len(agree)}",
            smallest_top1_margin=f"{float((top[:, -1] - top[:, -2]).min()):.4f}",
            ms_total=round(parity["tfjs"][backend]["emotion_mini_xception"]["ms"], 1))
    assert agree.all(), [labels[i] for i in np.flatnonzero(~agree)]
    assert error <= 5e-3, error
    assert np.allclose(got.sum(1), 1.0, atol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_emotion_features_match_keras(parity, backend):
    ref = parity["refs"]["emotion_mini_xception"]
    got = parity["tfjs"][backend]["emotion_mini_xception"]["outputs"]
    assert ref["features"].shape == got["features"].shape == (len(ref["probabilities"]), 128)
    errors = {k: _max_abs(ref[k], got[k]) for k in ("features", "probabilities")}
    scale = float(np.abs(ref["features"]).max())
    _record(backend, "emotion_mini_xception_features", max_abs_features=f"{errors['features']:.2e}",
            max_abs_probabilities=f"{errors['probabilities']:.2e}", largest_feature=f"{scale:.2f}")
    assert scale > 0.1, "the features of real face crops should not all be zero"
    # Seen here: 6.0e-7 (features) and 7.9e-7 / 4.8e-7 (probabilities) on wasm / webgl (SwiftShader).
    assert errors["features"] <= 1e-4 and errors["probabilities"] <= 1e-4, errors
