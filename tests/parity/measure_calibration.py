"""Which calibration head, and how to use it? Measured on real-photo features (docs/teach.md "How the
fit was chosen").

    PYTHONPATH=py:. .venv/bin/python -m tests.parity.measure_calibration [--seeds 3]

CPython only (Keras in .venv; about a minute on 2 cores). Nothing here is a test: it prints the table
docs/teach.md quotes (also written to test-results/calibration.md). Data: tests/parity/calibration_photos.py
(10 real public face photos, 60 jittered frames each, fer's mini-Xception: probabilities and features).

Per head (method, and the logistic fit's penalty and steps; "nearest_mean, Euclidean, no sphere" is the
same class-mean head by Euclidean distance on standardised features, without the projection on a sphere):
  cv        top-1 of the head on held-out contiguous blocks of each mood's frames (5 folds, as fit_calibration
            reports it to the person): the teach-mode case, the same faces seen later
  photo-out top-1 when a whole photo is held out (leave one photo out): a face the head never saw
  fit ms    median time of one fit_calibration (5 CV fits + the final one) on 4 moods x 60 frames of
            synthetic features (CPython here; the Pyodide figure is bench/bench_calibration.py's)
and the generic net's top-1 on the same frames: over all 7 labels (what the page shows without a
calibration) and restricted to the taught moods (happy, neutral).
Rules for use (on held-out blocks, the head's probabilities combined with the net's; each cell is
"top-1 over 7 / sure", sure = the frame alone makes the default vote confident in the right mood):
  replace       the head's probabilities on the taught moods, 0 elsewhere (moodcam's rule)
  taught-split  the head splits the net's mass on the taught moods; untaught moods keep theirs
  blend w       w x replace + (1 - w) x the net
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from moodcam.calibration import calibrated_probabilities, fit_calibration
from moodcam.calibration_head import fit_head
from moodcam.mood.labels import EMOTIONS
from tests.parity.calibration_photos import pooled, teaching_clips

ROOT = Path(__file__).resolve().parents[2]
FOLDS = 5


def blocks(labels: list[str], folds: int = FOLDS) -> np.ndarray:
    """Fold of each frame: contiguous blocks of each mood's frames (as moodcam.calibration)."""
    labels_arr = np.array(labels)
    fold = np.empty(len(labels), dtype=np.int64)
    for mood in sorted(set(labels)):
        rows = np.flatnonzero(labels_arr == mood)
        fold[rows] = np.arange(len(rows)) * folds // len(rows)
    return fold


def evaluate(x, labels, generic, names, method: str) -> dict:
    taught = tuple(m for m in EMOTIONS if m in set(labels))
    truth = np.array([taught.index(m) for m in labels])
    truth7 = np.array([EMOTIONS.index(m) for m in labels])
    index = [EMOTIONS.index(m) for m in taught]
    out = {"cv": 0, "photo_out": 0, "replace": 0, "taught_split": 0, "blend": 0, "blend75": 0,
           "replace_sure": 0, "taught_split_sure": 0, "blend_sure": 0, "blend75_sure": 0}
    for groups, key in ((blocks(labels), "cv"), (np.array(names), "photo_out")):
        for g in np.unique(groups):
            held = groups == g
            head = fit_head(x[~held], truth[~held], taught, method)
            p = head.predict_proba(x[held])                                   # (n, K)
            out[key] += int((p.argmax(1) == truth[held]).sum())
            if key != "cv":
                continue
            g = generic[held]
            split = g.copy()
            split[:, index] = g[:, index].sum(1, keepdims=True) * p
            rules = {"replace": calibrated_probabilities(head, g, x[held], EMOTIONS),     # moodcam's default
                     "taught_split": split,
                     "blend": calibrated_probabilities(head, g, x[held], EMOTIONS, head_weight=0.5),
                     "blend75": calibrated_probabilities(head, g, x[held], EMOTIONS, head_weight=0.75)}
            for name, q in rules.items():
                out[name] += int((q.argmax(1) == truth7[held]).sum())
                out[name + "_sure"] += int(sure(q, truth7[held]).sum())
    return {k: v / len(labels) for k, v in out.items()}


def _euclidean(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return (x - mean) / scale


def _fit_euclidean_mean(u: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest class mean by Euclidean distance on standardised features (no sphere), as a linear score."""
    import moodcam.calibration_head as ch
    d = u.shape[1]
    centroids = (onehot.T @ u) / onehot.sum(axis=0)[:, None]                       # (K, D)
    weights, bias = centroids.T / d, -0.5 * (centroids * centroids).sum(axis=1) / d
    closeness = u @ weights + bias
    loglik = [np.mean(np.log(np.maximum((ch.softmax(t * closeness) * onehot).sum(axis=1), 1e-300)))
              for t in 2.0 ** np.arange(-1, 8)]
    t = float(2.0 ** (int(np.argmax(loglik)) - 1))
    return weights * t, bias * t


def sure(q: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Frames whose output alone would make the default vote confident in the right mood
    (top >= 0.30 and >= 0.15 ahead of the runner-up: moodcam.mood.voting's ema settings)."""
    top = np.sort(q, axis=1)
    return (q.argmax(1) == truth) & (top[:, -1] >= 0.30) & (top[:, -1] - top[:, -2] >= 0.15)


def fit_ms(method: str, repeats: int = 7) -> float:
    from tests.core.test_calibration import separable
    x, labels = separable()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fit_calibration(x, labels, emotion_labels=EMOTIONS, method=method)
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="jitter seeds (each: all photos re-cut)")
    args = parser.parse_args(argv)
    import moodcam.calibration_head as ch

    rows = []
    generic7, generic2, frames = [], [], 0
    results: dict[str, list[dict]] = {}
    settings = [("nearest_mean", None, None), ("euclidean", None, None)] + [
        ("logistic", pen, steps) for pen in (1e-3, 1e-2, 1e-1) for steps in (30, 120)]
    originals = ch.project, ch._fit_nearest_mean
    for seed in range(args.seeds):
        x, labels, generic, names = pooled(teaching_clips(seed=seed))
        frames = len(labels)
        truth7 = np.array([EMOTIONS.index(m) for m in labels])
        taught_index = [EMOTIONS.index(m) for m in sorted(set(labels), key=EMOTIONS.index)]
        generic7.append(float(np.mean(generic.argmax(1) == truth7)))
        generic2.append(float(np.mean(np.array(taught_index)[generic[:, taught_index].argmax(1)] == truth7)))
        for method, pen, steps in settings:
            if pen is not None:
                ch.L2_PENALTY, ch.LOGISTIC_STEPS = pen, steps
            key = method if pen is None else f"logistic l2={pen:g} steps={steps}"
            if method == "euclidean":       # the same fit without the sphere: monkeypatched, measured only here
                ch.project, ch._fit_nearest_mean = _euclidean, _fit_euclidean_mean
                key, method = "nearest_mean, Euclidean, no sphere", "nearest_mean"
            results.setdefault(key, []).append(evaluate(x, labels, generic, names, method))
            ch.project, ch._fit_nearest_mean = originals
    ch.L2_PENALTY, ch.LOGISTIC_STEPS = 1e-2, 120
    lines = [f"frames: {frames} per seed (10 photos x 60), {args.seeds} seeds; generic net top-1: "
             f"{np.mean(generic7):.3f} over 7 labels, {np.mean(generic2):.3f} between happy and neutral", "",
             "| head | cv | photo-out | replace | taught-split | blend 0.5 | blend 0.75 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, runs in results.items():
        mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        rows.append((key, mean))
        rules = " | ".join(f"{mean[r]:.3f} / {mean[r + '_sure']:.3f}"
                           for r in ("replace", "taught_split", "blend", "blend75"))
        lines.append(f"| {key} | {mean['cv']:.3f} | {mean['photo_out']:.3f} | {rules} |")
    lines += ["", f"fit_calibration on 4 moods x 60 synthetic frames, CPython median: logistic (defaults) "
                  f"{fit_ms('logistic'):.1f} ms, nearest_mean {fit_ms('nearest_mean'):.1f} ms"]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "test-results"
    out.mkdir(exist_ok=True)
    (out / "calibration.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
