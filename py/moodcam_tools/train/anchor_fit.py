"""Anchor shapes that fit the training boxes: k-means on box shapes with an IoU distance (as YOLO v2 does).

The app decodes with MediaPipe's SsdAnchorsCalculator, which cannot take a free
list of (w, h) shapes per cell: every layer repeats the same ``aspect_ratios`` at
its own scale (``min_scale`` .. ``max_scale`` over the strides, plus one
interpolated square anchor). So the fit has two steps:

1. :func:`kmeans_shapes`: k clusters of the boxes' (w, h), normalised to the
   model input after the app's letterbox, with distance ``1 - IoU`` of the shapes
   laid on the same centre; the centroids' w/h give the aspect ratios.
2. :func:`fit_scales`: ``min_scale`` and ``max_scale`` by a grid search that
   maximises the mean best IoU between each box shape and the shapes the
   generator makes with those ratios (:func:`anchor_shapes`).

:func:`fit_anchors` runs both for 1..``max_ratios`` ratios and keeps more ratios
only while each adds at least ``min_gain`` of mean best IoU. Everything is
deterministic for a given seed.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from moodcam.detection.anchors import SsdAnchorOptions, generate_anchors

RATIO_MERGE = 1.25          # aspect ratios closer than this factor become one

__all__ = ["merge_ratios", "shape_iou", "kmeans_shapes", "anchor_shapes", "mean_best_iou", "fit_scales", "fit_anchors",
           "AnchorFit", "box_shapes"]


def box_shapes(samples) -> np.ndarray:
    """(M, 2) box (w, h) of every sample, as fractions of the letterboxed model input (the longer image side)."""
    rows = []
    for s in samples:
        b = np.asarray(s.boxes, np.float64).reshape(-1, 4)
        side = float(max(s.width, s.height))
        rows.append(np.stack([b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1) / side)
    out = np.concatenate(rows) if rows else np.zeros((0, 2))
    return out[(out > 0).all(axis=1)]


def shape_iou(wh: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(M, K) IoU of shapes (M, 2) with shapes (K, 2), both centred on the same point."""
    wh = np.asarray(wh, np.float64)[:, None, :]                  # (M, 1, 2)
    c = np.asarray(centroids, np.float64)[None, :, :]             # (1, K, 2)
    inter = np.minimum(wh[..., 0], c[..., 0]) * np.minimum(wh[..., 1], c[..., 1])
    union = wh[..., 0] * wh[..., 1] + c[..., 0] * c[..., 1] - inter
    return inter / np.maximum(union, 1e-12)


def kmeans_shapes(wh: np.ndarray, k: int, *, seed: int = 0, iterations: int = 100, restarts: int = 5
                  ) -> np.ndarray:
    """k centroids (k, 2) of the shapes (M, 2) under distance 1 - IoU, sorted by area.

    k-means++ seeding from ``np.random.default_rng(seed)``, mean update, ``restarts``
    runs, the one with the best mean IoU to its centroid kept.
    """
    wh = np.asarray(wh, np.float64).reshape(-1, 2)
    if k < 1 or wh.shape[0] < k:
        raise ValueError(f"k-means needs 1 <= k <= number of boxes, got k={k} for {wh.shape[0]} boxes")
    rng = np.random.default_rng(seed)
    best, best_score = None, -1.0
    for _ in range(restarts):
        centroids = _kmeanspp(wh, k, rng)
        for _ in range(iterations):
            assign = shape_iou(wh, centroids).argmax(axis=1)                     # (M,)
            new = np.stack([wh[assign == j].mean(axis=0) if np.any(assign == j) else centroids[j]
                            for j in range(k)])
            if np.allclose(new, centroids, atol=1e-9):
                break
            centroids = new
        score = float(shape_iou(wh, centroids).max(axis=1).mean())
        if score > best_score + 1e-12:
            best, best_score = centroids, score
    assert best is not None
    return best[np.argsort(best[:, 0] * best[:, 1], kind="stable")]


def _kmeanspp(wh: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centroids = [wh[rng.integers(wh.shape[0])]]
    for _ in range(1, k):
        d = 1.0 - shape_iou(wh, np.asarray(centroids)).max(axis=1)               # (M,)
        p = d * d
        total = p.sum()
        i = rng.integers(wh.shape[0]) if total <= 0 else rng.choice(wh.shape[0], p=p / total)
        centroids.append(wh[i])
    return np.asarray(centroids)


def anchor_shapes(options: SsdAnchorOptions) -> np.ndarray:
    """The distinct (w, h) shapes (K, 2) the generator makes with ``options`` (sizes, not fixed)."""
    sized = dataclasses.replace(options, fixed_anchor_size=False)
    return np.unique(np.round(generate_anchors(sized)[:, 2:4].astype(np.float64), 6), axis=0)


def mean_best_iou(wh: np.ndarray, shapes: np.ndarray) -> float:
    """Mean over the boxes of the IoU with the best-fitting anchor shape (YOLO's "avg IoU")."""
    return float(shape_iou(wh, shapes).max(axis=1).mean()) if len(wh) else 0.0


def fit_scales(wh: np.ndarray, base: SsdAnchorOptions, aspect_ratios: tuple[float, ...]
               ) -> tuple[float, float, float]:
    """(min_scale, max_scale, mean best IoU) on a 0.025 grid, max_scale <= 1, for the given ratios."""
    best = (base.min_scale, base.max_scale, -1.0)
    for lo in np.arange(0.05, 0.501, 0.025):
        for hi in np.arange(lo + 0.1, 1.0001, 0.025):
            opts = dataclasses.replace(base, aspect_ratios=tuple(aspect_ratios), min_scale=float(round(lo, 3)),
                                       max_scale=float(round(hi, 3)))
            score = mean_best_iou(wh, anchor_shapes(opts))
            if score > best[2] + 1e-9:
                best = (float(round(lo, 3)), float(round(hi, 3)), score)
    return best


@dataclasses.dataclass(frozen=True)
class AnchorFit:
    aspect_ratios: tuple[float, ...]
    min_scale: float
    max_scale: float
    mean_iou: float                      # mean best shape IoU of the training boxes with these anchors
    default_mean_iou: float              # the same for the square BlazeFace anchors at their own scales
    tried: tuple[tuple[int, float], ...]  # (number of ratios, mean IoU) for each k tried

    def describe(self) -> str:
        ratios = ", ".join(f"{r:g}" for r in self.aspect_ratios)
        tried = ", ".join(f"{k}: {iou:.3f}" for k, iou in self.tried)
        return (f"anchors fitted to the training boxes: aspect ratios (w/h) {ratios}, scales "
                f"{self.min_scale:g}..{self.max_scale:g}; mean best IoU {self.mean_iou:.3f} "
                f"(square BlazeFace anchors {self.default_mean_iou:.3f}; by number of ratios {tried})")


def merge_ratios(ratios, *, within: float = RATIO_MERGE) -> tuple[float, ...]:
    """Sorted ratios, rounded to 2 decimals, each run of ratios within a factor ``within`` of its neighbour
    replaced by their geometric mean (two anchors of w/h 0.92 and 0.94 would only split the matches)."""
    logs = np.sort(np.log(np.asarray(ratios, np.float64).reshape(-1)))
    groups: list[list[float]] = []
    for v in logs:
        if groups and v - groups[-1][-1] < np.log(within):
            groups[-1].append(float(v))
        else:
            groups.append([float(v)])
    return tuple(float(round(float(np.exp(np.mean(g))), 2)) for g in groups)


def fit_anchors(wh: np.ndarray, base: SsdAnchorOptions, *, max_ratios: int = 3, min_gain: float = 0.01,
                seed: int = 0) -> AnchorFit:
    """Aspect ratios by k-means on the shapes, scales by grid search; see the module docstring."""
    wh = np.asarray(wh, np.float64).reshape(-1, 2)
    default = mean_best_iou(wh, anchor_shapes(base))
    if wh.shape[0] == 0:
        return AnchorFit(base.aspect_ratios, base.min_scale, base.max_scale, default, default, ())
    chosen, tried = None, []
    for k in range(1, min(max_ratios, wh.shape[0]) + 1):
        centroids = kmeans_shapes(wh, k, seed=seed)
        ratios = merge_ratios(centroids[:, 0] / centroids[:, 1])
        lo, hi, score = fit_scales(wh, base, ratios)
        tried.append((k, score))
        if chosen is None or score >= chosen[3] + min_gain:
            chosen = (ratios, lo, hi, score)
    assert chosen is not None
    return AnchorFit(chosen[0], chosen[1], chosen[2], chosen[3], default, tuple(tried))


# --head-strides auto: at 256 px on the MobileNetV2 trunk, objects whose median side is under 4 cells of
# the BlazeFace layout's first map (4 x 16 = 64 px) get the finer 8/16 maps. Chosen on the validation
# lists of two sets (docs/custom-detectors.md): tree crowns, median 38 px, val AP 0.120 fine against
# 0.050 coarse; raccoons, median 151 px, val AP 0.507 fine against 0.592 coarse.
FINE_MAPS_BELOW_CELLS = 4


def choose_head_strides(shapes: np.ndarray, input_size: int, backbone: str) -> tuple[tuple[int, int] | None, str]:
    """(head strides or None for the layout's own, why) for ``--head-strides auto``, from the training boxes'
    (M, 2) shapes as fractions of the input (:func:`box_shapes`)."""
    if input_size != 256 or backbone != "mobilenetv2_oidv4" or len(shapes) == 0:
        return None, "the layout's own"
    median_px = float(np.median(np.sqrt(shapes[:, 0] * shapes[:, 1]))) * input_size
    limit = FINE_MAPS_BELOW_CELLS * 16
    if median_px < limit:
        return (8, 16), f"the median training box is {median_px:.0f} px of {input_size}, under {limit}"
    return None, f"the median training box is {median_px:.0f} px of {input_size}, not under {limit}"
