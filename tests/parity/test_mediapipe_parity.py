"""Parity with MediaPipe's own face detection on real photos.

MediaPipe (mediapipe==0.10.21, in its own environment .venv-mediapipe because
it pins numpy 1.x and protobuf 4) runs tests/reference/mediapipe_faces.py: its
own detections, plus the raw outputs of the same short-range model on the same
letterboxed 128 x 128 input. Our post-processing (anchors, decoding, weighted
NMS, letterbox removal) runs on those raw outputs here and must agree:
same face count, box IoU >= 0.98, key points within 1 % of the image size.

Full range (issue 12): the same with `--full-range` (FaceDetection(model_selection=1),
face_detection_full_range_sparse.tflite on a 192 x 192 letterbox, min_detection_confidence
0.6 as the full-range graph), decoded with the spec the manifest entry
`blazeface_full_range` describes, on the photos and the composed scenes of
tests/fixtures/scenes.py (faces 56..250 px wide in 640 x 480: the scenes one pass finds whole).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from moodcam.detection import FaceDetectorPostprocess, Letterbox
from moodcam.detection.boxes import iou_matrix

pytestmark = pytest.mark.mediapipe

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PYTHON = ROOT / ".venv-mediapipe" / "bin" / "python"
REFERENCE_SCRIPT = ROOT / "tests" / "reference" / "mediapipe_faces.py"

MIN_IOU = 0.98
MAX_KEYPOINT_ERROR = 0.01  # fraction of the image's long side


def _crop(img: np.ndarray, cx: int, cy: int, size: int) -> np.ndarray:
    return img[cy - size // 2: cy + size // 2, cx - size // 2: cx + size // 2]


def _images() -> dict[str, tuple[np.ndarray, int]]:
    """name -> (RGB uint8 image, faces MediaPipe is expected to find)."""
    data = pytest.importorskip("skimage.data")
    astronaut = data.astronaut()
    camera = np.repeat(data.camera()[:, :, None], 3, axis=2)  # grey -> RGB
    # Two real faces side by side (384 x 192: letterboxed with vertical padding).
    two = np.concatenate([_crop(astronaut, 225, 135, 192), _crop(camera, 223, 165, 192)], axis=1)
    # A 640 x 480 "webcam frame" with one face on black (4:3 letterbox).
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[40:296, 20:276] = _crop(astronaut, 225, 135, 256)
    return {"astronaut": (astronaut, 1), "camera": (camera, 1), "two_faces": (np.ascontiguousarray(two), 2),
            "webcam_frame": (frame, 1)}


def _run_reference(folder: Path, images: dict, *flags: str, timeout: float = 600) -> dict:
    """MediaPipe's outputs for `images` ({name: (image, faces)}): {name: (its result, faces)}."""
    Image = pytest.importorskip("PIL.Image")
    paths = []
    for name, (img, _) in images.items():
        path = folder / f"{name}.png"
        Image.fromarray(img).save(path)
        paths.append(str(path))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["GLOG_minloglevel"] = "2"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    proc = subprocess.run([str(REFERENCE_PYTHON), str(REFERENCE_SCRIPT), *flags, *paths], capture_output=True,
                          text=True, env=env, timeout=timeout, check=False)
    assert proc.returncode == 0, f"reference script failed:\n{proc.stderr[-3000:]}"
    results = json.loads(proc.stdout)["results"]
    return {name: (res, images[name][1]) for name, res in zip(images, results)}


def _skip_without_reference() -> None:
    if not REFERENCE_PYTHON.exists():
        pytest.skip(
            f"MediaPipe reference environment missing ({REFERENCE_PYTHON}); create it with: "
            "python3 -m venv .venv-mediapipe && .venv-mediapipe/bin/pip install mediapipe==0.10.21 "
            "ai-edge-litert==2.3.0 numpy==1.26.4"
        )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    _skip_without_reference()
    return _run_reference(tmp_path_factory.mktemp("parity"), _images(), timeout=300)


def _ours(res: dict):
    w, h = res["image_size"]
    raw = res["raw"]
    post = FaceDetectorPostprocess()
    return post(np.asarray(raw["regressors"], np.float32), np.asarray(raw["classificators"], np.float32),
                Letterbox.fit(w, h, 128, 128))


@pytest.mark.parametrize("name", ["astronaut", "camera", "two_faces", "webcam_frame"])
def test_matches_mediapipe(reference, name, record_property):
    res, expected_faces = reference[name]
    mp = res["mediapipe"]
    ours = _ours(res)
    assert len(mp) == expected_faces, f"MediaPipe itself found {len(mp)} faces on {name}"
    assert len(ours) == len(mp)

    mp_boxes = np.asarray([d["box_xyxy"] for d in mp])
    mp_kps = np.asarray([d["keypoints"] for d in mp])
    iou = iou_matrix(ours.boxes, mp_boxes)
    match = iou.argmax(axis=1)  # each of ours to its best MediaPipe face
    assert sorted(match.tolist()) == list(range(len(mp))), f"ambiguous matching, IoU matrix {iou}"
    ious = iou[np.arange(len(ours)), match]
    size = max(res["image_size"])
    kp_err = np.abs(ours.keypoints - mp_kps[match]).max(axis=(1, 2)) / size
    record_property("min_iou", float(ious.min()))
    record_property("max_keypoint_error", float(kp_err.max()))
    print(f"{name}: faces={len(ours)} min IoU={ious.min():.6f} max key point error={kp_err.max():.2e} of image size")
    assert ious.min() >= MIN_IOU, f"IoU {ious} below {MIN_IOU}"
    assert kp_err.max() <= MAX_KEYPOINT_ERROR, f"key point error {kp_err} above {MAX_KEYPOINT_ERROR}"
    np.testing.assert_allclose(ours.scores, np.asarray([d["score"] for d in mp])[match], atol=1e-4)


FULL_RANGE_SCENES = ["pair_near_far", "group4", "far3", "one_large", "no_face"]


@pytest.fixture(scope="module")
def reference_full(tmp_path_factory):
    _skip_without_reference()
    from tests.fixtures import scenes

    images = {name: (img, n) for name, (img, n) in _images().items()}
    for name in FULL_RANGE_SCENES:
        frame, faces = scenes.scene(name)
        images[f"scene-{name}"] = (frame, len(faces))
    return _run_reference(tmp_path_factory.mktemp("parity_full"), images, "--full-range")


def _full_range_spec():
    from moodcam.manifest import parse_manifest

    return parse_manifest((ROOT / "models" / "manifest.json").read_text())["blazeface_full_range"].detector_spec()


@pytest.mark.parametrize("name", ["astronaut", "camera", "two_faces", "webcam_frame",
                                  *(f"scene-{n}" for n in FULL_RANGE_SCENES)])
def test_full_range_matches_mediapipe(reference_full, name, record_property):
    res, expected_faces = reference_full[name]
    mp = res["mediapipe"]
    w, h = res["image_size"]
    raw = res["raw"]
    assert np.asarray(raw["regressors"]).shape == (2304, 16)
    ours = FaceDetectorPostprocess(_full_range_spec())(np.asarray(raw["regressors"], np.float32),
                                                       np.asarray(raw["classificators"], np.float32),
                                                       Letterbox.fit(w, h, 192, 192))
    assert len(mp) == expected_faces, f"MediaPipe itself found {len(mp)} faces on {name}, not {expected_faces}"
    assert len(ours) == len(mp)
    if not mp:
        return
    mp_boxes = np.asarray([d["box_xyxy"] for d in mp])
    mp_kps = np.asarray([d["keypoints"] for d in mp])
    iou = iou_matrix(ours.boxes, mp_boxes)
    match = iou.argmax(axis=1)
    assert sorted(match.tolist()) == list(range(len(mp))), f"ambiguous matching, IoU matrix {iou}"
    ious = iou[np.arange(len(ours)), match]
    kp_err = np.abs(ours.keypoints - mp_kps[match]).max(axis=(1, 2)) / max(w, h)
    record_property("min_iou", float(ious.min()))
    print(f"full range {name}: faces={len(ours)} min IoU={ious.min():.6f} "
          f"max key point error={kp_err.max():.2e} of image size")
    assert ious.min() >= MIN_IOU, f"IoU {ious} below {MIN_IOU}"
    assert kp_err.max() <= MAX_KEYPOINT_ERROR, f"key point error {kp_err} above {MAX_KEYPOINT_ERROR}"
    np.testing.assert_allclose(ours.scores, np.asarray([d["score"] for d in mp])[match], atol=1e-4)


def test_reference_interpreter_is_separate():
    """The reference environment must stay out of this process (it pins numpy 1.x)."""
    assert "mediapipe" not in sys.modules
