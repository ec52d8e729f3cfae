"""Benchmark: fitting a calibration head (moodcam.calibration.fit_calibration) on what teach mode collects.

4 moods x 60 frames of 128 features (the emotion graph's `features` output: about 3 s per mood with some
frames skipped), the whole fit as the page runs it: 5 cross-validation fits on contiguous blocks plus the
final fit, for each head. Issue 15's target: <= 100 ms inside Pyodide for the default head. The features are
synthetic (each mood a cloud around its own centre, drifting slowly like a held expression); the fit's cost
depends on the shapes, not on the values.

Usage (CPython):  PYTHONPATH=py python bench/bench_calibration.py [--repeats 21]
In Pyodide, import this file and call ``run(...)`` (bench/pages/core.html does, after bench_core): it
returns the figures as a dict and prints nothing unless ``verbose=True``.
"""
from __future__ import annotations

import statistics
import sys
import time
from typing import Any

import numpy as np

from moodcam.calibration import DEFAULT_METHOD, METHODS, fit_calibration
from moodcam.mood.labels import EMOTIONS

MOODS = ("happy", "sad", "surprise", "neutral")


def taught_frames(moods: int = 4, frames_per_mood: int = 60, size: int = 128,
                  seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.0, 2.0, size)
    names = (MOODS + tuple(m for m in EMOTIONS if m not in MOODS))[:moods]
    rows, labels = [], []
    for mood in names:
        drift = np.cumsum(rng.normal(0.0, 0.03, (frames_per_mood, size)), axis=0)
        rows.append(base + rng.normal(0.0, 1.0, size) + drift + rng.normal(0.0, 0.3, (frames_per_mood, size)))
        labels += [mood] * frames_per_mood
    return np.concatenate(rows), labels


def _time_fit(x: np.ndarray, labels: list[str], method: str, repeats: int) -> dict:
    fit_calibration(x, labels, emotion_labels=EMOTIONS, method=method)       # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fit = fit_calibration(x, labels, emotion_labels=EMOTIONS, method=method)
        times.append(1000 * (time.perf_counter() - t))
    times.sort()
    return {"method": method, "default": method == DEFAULT_METHOD, "repeats": repeats,
            "median_ms": statistics.median(times), "p90_ms": times[int(0.9 * (len(times) - 1))],
            "cv_accuracy": fit.cv_accuracy}


def run(repeats: int = 21, moods: int = 4, frames_per_mood: int = 60, verbose: bool = False) -> dict:
    """Time fit_calibration for each head; returns {"python": ..., "results": [per method]}."""
    x, labels = taught_frames(moods, frames_per_mood)
    report: dict[str, Any] = {"python": sys.version.split()[0], "platform": sys.platform, "numpy": np.__version__,
              "moods": moods, "frames_per_mood": frames_per_mood, "features": int(x.shape[1]),
              "results": [_time_fit(x, labels, m, repeats) for m in METHODS]}
    if verbose:
        print(f"calibration fit: Python {report['python']} ({report['platform']}), numpy {report['numpy']}, "
              f"{moods} moods x {frames_per_mood} frames x {x.shape[1]} features, 5-fold CV + final fit")
        for r in report["results"]:
            print(f"  {r['method']}{' (default)' if r['default'] else ''}: median {r['median_ms']:.1f} ms, "
                  f"p90 {r['p90_ms']:.1f} ms over {r['repeats']} fits (cv accuracy {r['cv_accuracy']:.3f})")
    return report


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    run(repeats=args.repeats, verbose=True)
