"""Detector-run fraction and landmark drift of FaceMeshTracker on a synthetic moving-face clip.

    .venv/bin/python -m tests.parity.measure_mesh_tracking     (TensorFlow; ~1-2 min on 2 cores)

The clip: 640 x 480 frames, the astronaut's face (a 256 px patch) panning
(+-60 px, +-30 px) and rolling (+-20 deg) over FRAMES frames at 30 fps, with
the face covered (grey frame) for frames 60-64 to force a re-detection. Both
models are the rebuilt TF graphs the TF.js models were converted from
(moodcam_tools.convert.rebuild: within 1e-4 of the TFLite interpreter).
The browser steps are done in numpy: the 128 px letterbox for BlazeFace and
tf.image.transform for the FaceMesh crop (tests/parity/facemesh_support.py).
Ground truth: the landmarks of the static, upright patch (detector ROI),
moved by the known per-frame transform. Written to test-results/mesh_tracking.json.
"""
from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT))

FRAMES = 120
COVERED = range(60, 65)
W, H = 640, 480


def _pose(f: int) -> tuple[float, float, float]:
    t = f / 30.0
    return 60 * math.sin(0.9 * t), 30 * math.sin(1.3 * t), math.radians(20) * math.sin(1.1 * t)


def _patch_to_frame(f: int) -> np.ndarray:
    """2x3 affine: patch pixel (continuous) -> frame pixel (continuous)."""
    dx, dy, a = _pose(f)
    c, s = math.cos(a), math.sin(a)
    cx, cy = 128.0, 128.0                         # patch centre
    tx, ty = W / 2 + dx, H / 2 + dy               # where it goes
    return np.array([[c, -s, tx - c * cx + s * cy], [s, c, ty - s * cx - c * cy]])


def _render(patch: np.ndarray, f: int) -> np.ndarray:
    from tests.parity.facemesh_support import tf_transform
    if f in COVERED:
        return np.full((H, W, 3), 96.0)
    m = _patch_to_frame(f)
    inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
    # output index (u, v) -> continuous (u + .5, v + .5) -> patch continuous -> patch index (-.5)
    a = inv[:, :2]
    b = inv[:, 2] + a @ np.array([0.5, 0.5]) - 0.5
    frame = tf_transform(patch, (a[0, 0], a[0, 1], b[0], a[1, 0], a[1, 1], b[1], 0, 0), H, W)
    # outside the patch: black, like a plain background
    v, u = np.mgrid[0:H, 0:W] + 0.5
    pu = inv[0, 0] * u + inv[0, 1] * v + inv[0, 2]
    pv = inv[1, 0] * u + inv[1, 1] * v + inv[1, 2]
    inside = (pu >= 0) & (pu <= 256) & (pv >= 0) & (pv <= 256)
    return frame * inside[..., None]


def main() -> int:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    from skimage import data

    from moodcam.detection import FaceDetectorPostprocess, Letterbox
    from moodcam.landmarks import FaceMeshTracker, MeshConfig, detection_roi, landmarks_to_frame
    from moodcam_tools import paths as tool_paths
    from moodcam_tools.convert import rebuild, sources, specs
    from moodcam_tools.convert.tflite_reader import read_tflite
    from tests.parity.facemesh_support import tf_transform, warp

    with tempfile.TemporaryDirectory() as tmp:
        got = sources.prepare([specs.BLAZEFACE.source, specs.FACE_LANDMARK.source], tool_paths.downloads_dir(),
                              Path(tmp))
        fns = {}
        for spec in (specs.BLAZEFACE, specs.FACE_LANDMARK):
            graph = read_tflite(got[spec.source.member], name=spec.name)
            fns[spec.name] = rebuild.build_function(graph, input_name=spec.input_name, output_names=spec.output_names)

    def blazeface(frame):
        lb = Letterbox.fit(W, H, 128, 128)
        # letterbox: target index -> source index through the inverse of to_target
        s = 1.0 / lb.scale
        px, py = lb.padding
        t = (s, 0.0, (0.5 - px) * s - 0.5, 0.0, s, (0.5 - py) * s - 0.5, 0.0, 0.0)
        x = tf_transform(frame, t, 128, 128)
        v, u = np.mgrid[0:128, 0:128] + 0.5
        inside = (u >= px) & (u <= 128 - px) & (v >= py) & (v <= 128 - py)
        x = (x * inside[..., None] - 127.5) / 127.5
        out = fns["blazeface_short_range"](input=tf.constant(x[None].astype(np.float32)))
        return FaceDetectorPostprocess()(out["regressors"].numpy(), out["classificators"].numpy(), lb)

    def facemesh(frame, roi):
        x = warp(frame, roi, 192) / 255.0
        out = fns["face_landmark"](input=tf.constant(x[None].astype(np.float32)))
        return out["landmarks"].numpy().reshape(1, -1), out["face_flag"].numpy().reshape(-1)

    patch = data.astronaut()[135 - 128:135 + 128, 225 - 128:225 + 128].astype(np.float64)
    # Ground truth on the static patch (256 x 256 frame, detector ROI, as the parity test checks).
    det = FaceDetectorPostprocess()(*[
        fns["blazeface_short_range"](input=tf.constant(
            ((tf_transform(patch, (2.0, 0, 0.5, 0, 2.0, 0.5, 0, 0), 128, 128) - 127.5) / 127.5)[None]
            .astype(np.float32)))[k].numpy() for k in ("regressors", "classificators")], Letterbox.fit(256, 256, 128, 128))
    roi0 = detection_roi(det.boxes[0], det.keypoints[0], (256, 256))
    lm_raw, _ = facemesh(patch, roi0)
    truth_patch = landmarks_to_frame(lm_raw, roi0)[:, :2]
    face_size = float(np.ptp(truth_patch, axis=0).max())

    mesh = FaceMeshTracker(MeshConfig())
    rows = []
    for f in range(FRAMES):
        frame = _render(patch, f)
        plan = mesh.begin_frame(f * 1000 / 30, W, H)
        if plan.run_detector:
            mesh.submit_detections(blazeface(frame))
        for req in mesh.requests():
            lm, flag = facemesh(frame, req.roi)
            mesh.submit_landmarks(req.face_id, lm, flag)
        res = mesh.end_frame()
        row = {"frame": f, "ran_detector": res.ran_detector, "faces": len(res.faces), "covered": f in COVERED}
        if res.faces and f not in COVERED:
            m = _patch_to_frame(f)
            truth = truth_patch @ m[:, :2].T + m[:, 2]
            err = np.linalg.norm(res.faces[0].landmarks[:, :2] - truth, axis=1)
            row.update(median_err_frac=float(np.median(err)) / face_size, presence=res.faces[0].presence,
                       source=res.faces[0].source)
        rows.append(row)
    visible = [r for r in rows if not r["covered"]]
    errs = [r["median_err_frac"] for r in visible if "median_err_frac" in r]
    summary = {
        "frames": FRAMES, "detector_runs": mesh.detector_runs, "detector_fraction": round(mesh.detector_fraction, 4),
        "detector_frames": [r["frame"] for r in rows if r["ran_detector"]],
        "frames_with_face_while_visible": f"{sum(r['faces'] > 0 for r in visible)}/{len(visible)}",
        "frames_with_face_while_covered": sum(r["faces"] > 0 for r in rows if r["covered"]),
        "face_size_px": round(face_size, 1),
        "median_landmark_error_frac": {"median": round(float(np.median(errs)), 4), "max": round(float(max(errs)), 4)},
    }
    out = ROOT / "test-results" / "mesh_tracking.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "frames": rows}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
