"""Benchmark: per-frame cost of the Python core (decode + NMS + tracking + voting + mood state).

Worst case on purpose: the detector's raw outputs are post-processed on every
frame and every face gets an emotion vote on every frame (the app runs the
detector every few frames, so real frames cost less).

Inputs are synthetic but shaped like BlazeFace short range's real outputs:
[1, 896, 16] regressors and [1, 896, 1] logits, each face firing on a few
neighbouring anchors with slightly different boxes, background logits drawn
from N(-7, 1.5) (a stray anchor passes the 0.5 score threshold about once in a
thousand frames), faces drifting a little between frames.

Baselines, measured in the same process on the same inputs and printed as ratios:
  * decode_only: our vectorised decode step alone (how much the rest adds);
  * naive_loop: a per-anchor Python loop doing decode + weighted NMS the way
    MediaPipe's C++ does (what vectorising buys).

Usage (CPython):  PYTHONPATH=py python bench/bench_core.py [--frames 2000]
In Pyodide, import this file and call ``run(frames=...)``: it returns the
figures as a dict and prints nothing unless ``verbose=True``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time

import numpy as np

from moodcam.detection.anchors import BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.decode import decode
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.detection.letterbox import Letterbox
from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig

FRAME_W, FRAME_H = 640, 480
FRAME_MS = 1000.0 / 30.0
VARIANTS = 64  # distinct synthetic frames, cycled


def _synthetic_frames(n_faces: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    anchors = generate_anchors(BLAZEFACE_SHORT_RANGE)
    lb = Letterbox.fit(FRAME_W, FRAME_H, 128, 128)
    centres = [(180.0, 200.0), (420.0, 220.0), (300.0, 330.0)][:n_faces]
    frames = []
    for v in range(VARIANTS):
        boxes, kps, ids, logits = [], [], [], []
        for cx, cy in centres:
            cx += 8 * math.sin(v / 7.0)
            cy += 5 * math.cos(v / 5.0)
            side = 110.0
            px = np.array([[cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2]])
            b = lb.boxes_to_target(px)[0] / 128.0
            near = anchors_near(anchors, b[None], 6)[0]
            for k, a in enumerate(near):
                jitter = rng.normal(0, 0.004, 4)
                bb = b + jitter
                w, h = bb[2] - bb[0], bb[3] - bb[1]
                kp = np.array([[bb[0] + 0.3 * w, bb[1] + 0.35 * h], [bb[0] + 0.7 * w, bb[1] + 0.35 * h],
                               [bb[0] + 0.5 * w, bb[1] + 0.55 * h], [bb[0] + 0.5 * w, bb[1] + 0.75 * h],
                               [bb[0], bb[1] + 0.4 * h], [bb[2], bb[1] + 0.4 * h]])
                boxes.append(bb)
                kps.append(kp)
                ids.append(a)
                logits.append(4.0 - 0.6 * k + rng.normal(0, 0.2))
        raw, scores = encode_raw_outputs(anchors, ids, np.array(boxes), np.array(kps), logits)
        background = np.clip(rng.normal(-7.0, 1.5, scores.shape), -100, None).astype(np.float32)
        mask = np.ones(scores.shape[0], bool)
        mask[np.asarray(ids)] = False
        scores[mask] = background[mask]
        raw[mask] += rng.normal(0, 5, raw[mask].shape).astype(np.float32)
        raw[mask, 2:4] = np.abs(raw[mask, 2:4]) + 5  # background boxes have positive size, like the model's
        frames.append((raw[None], scores[None]))
    return frames


def _probabilities(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    out = []
    for _ in range(n):
        p = rng.dirichlet(np.ones(7) * 0.3)
        p = 0.5 * p + 0.5 * np.eye(7)[3]  # mostly "happy"
        out.append(p)
    return out


def _naive_decode_nms(raw: np.ndarray, logits: np.ndarray, anchors: np.ndarray) -> list[tuple]:
    """MediaPipe's per-anchor loops written in plain Python: the baseline for vectorising."""
    raw = raw[0].tolist()
    logits = logits[0].tolist()
    anc = anchors.tolist()
    cands = []
    for i in range(len(anc)):
        s = max(-100.0, min(100.0, logits[i][0]))
        score = 1.0 / (1.0 + math.exp(-s))
        if score < 0.5:
            continue
        r = raw[i]
        ax, ay, aw, ah = anc[i]
        xc = r[0] / 128.0 * aw + ax
        yc = r[1] / 128.0 * ah + ay
        w = r[2] / 128.0 * aw
        h = r[3] / 128.0 * ah
        kps = [(r[4 + 2 * k] / 128.0 * aw + ax, r[5 + 2 * k] / 128.0 * ah + ay) for k in range(6)]
        cands.append((score, [xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], kps))
    cands.sort(key=lambda c: -c[0])

    def iou(a, b):
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = iw * ih
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union if union > 0 else 0.0

    out = []
    while cands:
        top = cands[0]
        group = [c for c in cands if iou(c[1], top[1]) > 0.3]
        rest = [c for c in cands if iou(c[1], top[1]) <= 0.3]
        total = sum(c[0] for c in group)
        box = [sum(c[1][j] * c[0] for c in group) / total for j in range(4)]
        out.append((top[0], box))
        if len(rest) == len(cands):
            break
        cands = rest
    return out


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _time_core(n_faces: int, frames: int) -> dict:
    data = _synthetic_frames(n_faces)
    rng = np.random.default_rng(1)
    probs = _probabilities(rng, 97)
    config = FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=1, emotion_every_n_frames=1,
                                                      max_emotion_runs_per_frame=n_faces))
    logic = FrameLogic(config)
    times = []
    faces_seen = 0
    for i in range(frames):
        raw, scores = data[i % VARIANTS]
        t = i * FRAME_MS
        start = time.perf_counter()
        plan = logic.begin_frame(t, FRAME_W, FRAME_H)
        logic.submit_detections(raw, scores)
        for k, req in enumerate(logic.emotion_requests()):
            logic.submit_emotion(req.face_id, probs[(i + k) % len(probs)])
        result = logic.end_frame()
        times.append((time.perf_counter() - start) * 1000.0)
        assert plan.run_detector
        faces_seen = len(result.faces)
    # Baselines on the same inputs.
    anchors = generate_anchors(BLAZEFACE_SHORT_RANGE)
    decode_times, naive_times = [], []
    for i in range(min(frames, 500)):
        raw, scores = data[i % VARIANTS]
        start = time.perf_counter()
        decode(raw, scores, anchors)
        decode_times.append((time.perf_counter() - start) * 1000.0)
        start = time.perf_counter()
        _naive_decode_nms(raw, scores, anchors)
        naive_times.append((time.perf_counter() - start) * 1000.0)
    median = statistics.median(times)
    return {
        "faces": n_faces,
        "faces_tracked_at_end": faces_seen,
        "frames": frames,
        "median_ms": median,
        "p90_ms": _percentile(times, 0.9),
        "decode_only_median_ms": statistics.median(decode_times),
        "naive_loop_median_ms": statistics.median(naive_times),
        "ratio_core_to_decode_only": median / statistics.median(decode_times),
        "speedup_vs_naive_loop_decode_nms": statistics.median(naive_times) / median,
    }


def run(frames: int = 2000, faces: tuple[int, ...] = (1, 3), verbose: bool = False) -> dict:
    """Time the core for each face count; returns {"python": ..., "results": [per face count]}."""
    results = [_time_core(n, frames) for n in faces]
    report = {"python": sys.version.split()[0], "platform": sys.platform, "numpy": np.__version__,
              "results": results}
    if verbose:
        print(f"moodcam core benchmark: Python {report['python']} ({report['platform']}), numpy {report['numpy']}")
        print("per frame: decode + weighted NMS + tracking + voting + mood state; detector and emotion every frame")
        for r in results:
            print(f"  {r['faces']} face(s), {r['frames']} frames: median {r['median_ms']:.3f} ms, "
                  f"p90 {r['p90_ms']:.3f} ms | decode alone {r['decode_only_median_ms']:.3f} ms "
                  f"(core = {r['ratio_core_to_decode_only']:.1f}x decode) | naive loop decode+NMS "
                  f"{r['naive_loop_median_ms']:.3f} ms (core is {r['speedup_vs_naive_loop_decode_nms']:.1f}x faster)")
    return report


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    args = parser.parse_args()
    run(frames=args.frames, verbose=True)
