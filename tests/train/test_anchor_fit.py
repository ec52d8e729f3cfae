"""Anchors fitted to the training boxes: k-means on shapes (IoU distance), ratio merging, scale search."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from moodcam.detection.anchors import BLAZEFACE_BACK_256, generate_anchors
from moodcam_tools.train.anchor_fit import (anchor_shapes, fit_anchors, fit_scales, kmeans_shapes, mean_best_iou,
                                            merge_ratios, shape_iou)

# Three known shapes (w, h as fractions of the input): tall, square, wide.
TRUE_SHAPES = np.array([[0.1, 0.4], [0.3, 0.3], [0.6, 0.2]])


def _clusters(seed: int = 1, per: int = 60, spread: float = 0.04) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [c * np.exp(rng.normal(0, spread, (per, 2))) for c in TRUE_SHAPES]
    return rng.permutation(np.concatenate(parts))


def test_shape_iou_of_centred_boxes():
    iou = shape_iou(np.array([[0.2, 0.2], [0.4, 0.1]]), np.array([[0.2, 0.2], [0.1, 0.4]]))
    np.testing.assert_allclose(iou[0], [1.0, 0.02 / 0.06])
    np.testing.assert_allclose(iou[1, 1], 0.01 / 0.07)


def test_kmeans_recovers_known_clusters():
    centroids = kmeans_shapes(_clusters(), 3, seed=0)
    # sorted by area: tall (0.04), square (0.09), wide (0.12)
    np.testing.assert_allclose(centroids, TRUE_SHAPES, rtol=0.03)


def test_kmeans_is_deterministic_for_a_seed():
    wh = np.random.default_rng(3).uniform(0.05, 0.9, (150, 2))
    a = kmeans_shapes(wh, 4, seed=7)
    np.testing.assert_array_equal(a, kmeans_shapes(wh, 4, seed=7))
    assert a.shape == (4, 2)
    assert np.all(np.diff(a[:, 0] * a[:, 1]) >= 0)


def test_kmeans_refuses_more_clusters_than_boxes():
    with pytest.raises(ValueError, match="k-means needs"):
        kmeans_shapes(np.ones((2, 2)) * 0.3, 3)


def test_close_ratios_merge_distant_ones_stay():
    assert merge_ratios([0.92, 0.94, 1.05]) == (0.97,)
    assert merge_ratios([3.0, 0.25, 1.0]) == (0.25, 1.0, 3.0)


def test_fit_finds_the_ratios_of_elongated_boxes_and_beats_square_anchors():
    wh = _clusters()
    fit = fit_anchors(wh, BLAZEFACE_BACK_256, max_ratios=3, seed=0)
    assert len(fit.aspect_ratios) == 3
    np.testing.assert_allclose(fit.aspect_ratios, [0.25, 1.0, 3.0], rtol=0.1)
    assert fit.mean_iou > fit.default_mean_iou + 0.1
    # The fitted options really give that IoU (the figure is the generator's, not the centroids').
    opts = dataclasses.replace(BLAZEFACE_BACK_256, aspect_ratios=fit.aspect_ratios, min_scale=fit.min_scale,
                               max_scale=fit.max_scale)
    assert mean_best_iou(wh, anchor_shapes(opts)) == pytest.approx(fit.mean_iou)


def test_square_boxes_keep_one_ratio():
    rng = np.random.default_rng(0)
    side = rng.uniform(0.2, 0.8, 200)
    wh = np.stack([side, side * np.exp(rng.normal(0, 0.05, 200))], axis=1)
    fit = fit_anchors(wh, BLAZEFACE_BACK_256, max_ratios=3)
    assert len(fit.aspect_ratios) == 1 and fit.aspect_ratios[0] == pytest.approx(1.0, abs=0.06)


def test_scales_cover_the_box_sizes():
    wh = np.repeat([[0.5, 0.5]], 20, axis=0)
    lo, hi, score = fit_scales(wh, BLAZEFACE_BACK_256, (1.0,))
    assert score > 0.97
    shapes = anchor_shapes(dataclasses.replace(BLAZEFACE_BACK_256, aspect_ratios=(1.0,), min_scale=lo, max_scale=hi))
    assert np.min(np.abs(shapes[:, 0] - 0.5)) < 0.01
    assert generate_anchors(BLAZEFACE_BACK_256).shape == (896, 4)        # the base is not changed
