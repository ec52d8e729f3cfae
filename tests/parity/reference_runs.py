"""The measurement scripts' one way to run BlazeFace in MediaPipe's reference environment.

tests/reference/mediapipe_faces.py runs in .venv-mediapipe (TFLite on MediaPipe's own letterbox);
these helpers hand it images, read its raw outputs back as numpy, and hold the "found" rule the
measurements share. Used by measure_smallest_face.py, measure_tiled_pass.py and
measure_second_look.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PYTHON = ROOT / ".venv-mediapipe" / "bin" / "python"


def found(boxes: np.ndarray, truth) -> bool:
    """A face counts as found when a detection's centre lies inside its box, width 0.5-2x of it."""
    x1, y1, x2, y2 = truth
    for b in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        cx, cy, w = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0]
        if x1 <= cx <= x2 and y1 <= cy <= y2 and 0.5 <= w / (x2 - x1) <= 2.0:
            return True
    return False


def run_reference(python: Path, flags: list[str], paths: list[str], timeout: float = 1800) -> list[dict]:
    """tests/reference/mediapipe_faces.py in .venv-mediapipe on `paths`: one result per image."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["GLOG_minloglevel"] = "2"
    proc = subprocess.run([str(python), str(ROOT / "tests" / "reference" / "mediapipe_faces.py"), *flags, *paths],
                          capture_output=True, text=True, env=env, timeout=timeout, check=True)
    return json.loads(proc.stdout)["results"]


def raw_outputs(result: dict) -> tuple[np.ndarray, np.ndarray]:
    """(regressors, classificators) of one reference result, as the decoder takes them."""
    return (np.asarray(result["raw"]["regressors"], np.float32),
            np.asarray(result["raw"]["classificators"], np.float32))


def run_images(images: list[np.ndarray], full_range: bool = False, python: Path = REFERENCE_PYTHON,
               timeout: float = 3600) -> list[tuple[np.ndarray, np.ndarray]]:
    """The model's raw outputs on each (H, W, 3) uint8 RGB image, written to PNG for the reference."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, img in enumerate(images):
            path = Path(tmp) / f"{i}.png"
            Image.fromarray(np.ascontiguousarray(img)).save(path)
            paths.append(str(path))
        results = run_reference(python, ["--full-range"] if full_range else [], paths, timeout) if paths else []
    return [raw_outputs(r) for r in results]


def write_report(name: str, report: dict) -> None:
    out = ROOT / "test-results"
    out.mkdir(exist_ok=True)
    (out / name).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
