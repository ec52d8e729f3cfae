"""Helpers for the FaceMesh parity test and the aligned-crop measurement.

`warp(image, roi, size)` is tf.image.transform written out in numpy (bilinear,
fill mode 'nearest', output pixel -> input pixel through the 8 numbers of
`roi.projective_transform(size)`): what the browser does to crop a ROI.
`reference(...)` runs tests/reference/mediapipe_facemesh.py in .venv-mediapipe.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PYTHON = ROOT / ".venv-mediapipe" / "bin" / "python"
REFERENCE_SCRIPT = ROOT / "tests" / "reference" / "mediapipe_facemesh.py"


def tf_transform(image: np.ndarray, transform, out_h: int, out_w: int) -> np.ndarray:
    """tf.image.transform(image, [transform], 'bilinear', fill_mode='nearest') for one HxWxC image."""
    a0, a1, a2, b0, b1, b2, c0, c1 = (float(v) for v in transform)
    img = np.asarray(image, dtype=np.float64)
    h, w = img.shape[:2]
    v, u = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    k = c0 * u + c1 * v + 1.0
    x = (a0 * u + a1 * v + a2) / k
    y = (b0 * u + b1 * v + b2) / k
    x = np.clip(x, 0, w - 1)                     # 'nearest': clamp to the edge pixel
    y = np.clip(y, 0, h - 1)
    x0 = np.floor(x).astype(int)
    y0 = np.floor(y).astype(int)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def warp(image: np.ndarray, roi, size: int) -> np.ndarray:
    return tf_transform(image, roi.projective_transform(size), size, size)


def reference_available() -> bool:
    return REFERENCE_PYTHON.exists()


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["GLOG_minloglevel"] = "2"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def reference_mesh(paths: list[str]) -> list[dict]:
    proc = subprocess.run([str(REFERENCE_PYTHON), str(REFERENCE_SCRIPT), "mesh", *paths], capture_output=True,
                          text=True, env=_env(), timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"reference script failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)["results"]


def reference_infer(crops: np.ndarray, folder: Path) -> dict[str, np.ndarray]:
    """Raw face_landmark.tflite outputs for [N, 192, 192, 3] crops in 0..1."""
    src, dst = folder / "crops.npy", folder / "out.npz"
    np.save(src, crops.astype(np.float32))
    proc = subprocess.run([str(REFERENCE_PYTHON), str(REFERENCE_SCRIPT), "infer", str(src), str(dst)],
                          capture_output=True, text=True, env=_env(), timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"reference script failed:\n{proc.stderr[-3000:]}")
    with np.load(dst) as data:
        return {k: data[k] for k in data.files}
