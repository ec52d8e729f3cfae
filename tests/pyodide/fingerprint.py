"""The core's outputs on fixed inputs, reduced to a small dict.

Run in CPython and, as source text, inside Pyodide (so it imports only numpy
and moodcam); tier 2 asserts the two dicts are identical. The input is a
seeded 120-frame sequence: two faces drifting across a 640x480 frame, noisy
background logits, and emotion probabilities that wander between classes; once
through BlazeFace short range's decoding and once through full range's (2304 anchors), with and
without the tile sweep (runs alternate between the frame and a tile: shifted, filtered, covered).
"""
import numpy as np

from moodcam.detection.anchors import BLAZEFACE_FULL_RANGE, BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.detection.pipeline import BLAZEFACE_FULL_RANGE_SPEC, BLAZEFACE_SHORT_RANGE_SPEC
from moodcam.detection.tiles import TileConfig
from moodcam.pipeline import FrameLogic, FrameLogicConfig


def compute(frames: int = 120) -> dict:
    return {"near": _run(BLAZEFACE_SHORT_RANGE, BLAZEFACE_SHORT_RANGE_SPEC, frames),
            "far": _run(BLAZEFACE_FULL_RANGE, BLAZEFACE_FULL_RANGE_SPEC, frames),
            "far_tiles": _run(BLAZEFACE_FULL_RANGE, BLAZEFACE_FULL_RANGE_SPEC, frames, TileConfig(small_face_fraction=0.4)),
            "calibration": _calibration()}


def _calibration() -> dict:
    """Both heads fitted on seeded, overlapping features (so the CV is not trivially perfect), their held-out
    accuracy, and the calibrated probabilities of a few frames, through the JSON file and back."""
    from moodcam.calibration import METHODS, calibrated_probabilities, calibration_from_json, calibration_to_json, \
        fit_calibration
    from moodcam.mood.labels import EMOTIONS

    rng = np.random.default_rng(20261215)
    moods = ("happy", "sad", "surprise", "neutral")
    centres = rng.normal(1.0, 0.25, (4, 128))
    x = np.concatenate([c + rng.normal(0.0, 0.6, (40, 128)) for c in centres])     # (160, 128)
    labels = [m for m in moods for _ in range(40)]
    generic = rng.dirichlet(np.ones(7), 160)
    numbers, out_labels = {}, []
    for method in METHODS:
        fit = fit_calibration(x, labels, emotion_labels=EMOTIONS, generic_probabilities=generic, method=method)
        _, again = calibration_from_json(calibration_to_json("fp", fit, "0" * 64), model_sha256="0" * 64,
                                         feature_size=128)
        p = calibrated_probabilities(again.head, generic[::16], x[::16], EMOTIONS)      # (10, 7)
        numbers[f"{method}_cv"] = fit.cv_accuracy
        numbers[f"{method}_generic"] = fit.generic_accuracy
        numbers.update({f"{method}_p{i}": float(v) for i, v in enumerate(p.ravel())})
        numbers[f"{method}_weights_sum"] = float(np.abs(fit.head.weights).sum())
        out_labels += [f"{method}:{EMOTIONS[k]}" for k in p.argmax(axis=1)]
    return {"numbers": numbers, "labels": out_labels}


def _run(anchor_options, spec, frames: int, tiles=None) -> dict:
    rng = np.random.default_rng(20261121)
    anchors = generate_anchors(anchor_options)
    logic = FrameLogic(config=FrameLogicConfig(detector=spec, tiles=tiles))
    numbers: dict[str, float] = {"box_sum": 0.0, "keypoint_sum": 0.0, "score_sum": 0.0, "faces": 0.0}
    labels: list[str] = []
    for i in range(frames):
        t = i * 33.3
        shift = 0.002 * i
        boxes = np.array([[0.15 + shift, 0.30, 0.40 + shift, 0.62],
                          [0.60 - shift, 0.32, 0.82 - shift, 0.60]])
        kps = np.stack([np.stack([boxes[:, 0] + (boxes[:, 2] - boxes[:, 0]) * fx,
                                  boxes[:, 1] + (boxes[:, 3] - boxes[:, 1]) * fy], axis=1)
                        for fx, fy in ((0.3, 0.35), (0.7, 0.35), (0.5, 0.55), (0.5, 0.75), (0.05, 0.4), (0.95, 0.4))],
                       axis=1)
        ids = anchors_near(anchors, boxes, per_box=3)
        raw_boxes, raw_scores = encode_raw_outputs(
            anchors, ids.reshape(-1), np.repeat(boxes, 3, axis=0) + rng.normal(0, 0.002, (6, 4)),
            np.repeat(kps, 3, axis=0), rng.uniform(1.0, 4.0, 6))
        raw_scores = raw_scores + rng.normal(0, 0.5, raw_scores.shape).astype(np.float32)

        def classify(request, i=i):
            probs = rng.dirichlet(np.ones(7) * 0.3)
            if i > 40:  # settle: even face ids on "happy", odd ones on "surprise"
                probs = 0.15 * probs
                probs[3 if request.face_id % 2 == 0 else 5] += 0.85
            return probs

        result = logic.process(t, 640, 480, raw_boxes[None], raw_scores[None], classify=classify)
        for face in result.faces:
            numbers["box_sum"] += float(np.sum(face.box))
            numbers["keypoint_sum"] += float(np.sum(face.keypoints))
            numbers["score_sum"] += float(face.score)
            numbers["faces"] += 1
        labels.append(f"{result.mood.state}:{result.mood.mood}:" + ",".join(e.kind for e in result.events))
    return {"numbers": numbers, "labels": labels}
