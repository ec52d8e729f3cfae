import numpy as np
import pytest

from moodcam.detection.anchors import (
    BLAZEFACE_BACK_256,
    BLAZEFACE_FULL_RANGE,
    BLAZEFACE_SHORT_RANGE,
    SsdAnchorOptions,
    generate_anchors,
)


def test_blazeface_short_range_has_896_anchors_with_known_centres():
    a = generate_anchors(BLAZEFACE_SHORT_RANGE)
    assert a.shape == (896, 4) and a.dtype == np.float32
    # Layer 0: 16x16 cells, 2 anchors per cell (stride 8).
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16, 1, 1])
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[2], [1.5 / 16, 0.5 / 16, 1, 1])
    np.testing.assert_allclose(a[511], [15.5 / 16, 15.5 / 16, 1, 1])
    # Layers 1-3 share stride 16: 8x8 cells, 6 anchors per cell.
    np.testing.assert_allclose(a[512], [0.5 / 8, 0.5 / 8, 1, 1])
    np.testing.assert_allclose(a[512:518], np.repeat(a[512:513], 6, axis=0))
    np.testing.assert_allclose(a[518], [1.5 / 8, 0.5 / 8, 1, 1])
    np.testing.assert_allclose(a[-1], [7.5 / 8, 7.5 / 8, 1, 1])


def test_other_configurations():
    assert generate_anchors(BLAZEFACE_FULL_RANGE).shape == (48 * 48, 4)
    back = generate_anchors(BLAZEFACE_BACK_256)
    assert back.shape == (896, 4)
    np.testing.assert_allclose(back[0, :2], [1 / 32, 1 / 32])


def test_anchor_sizes_follow_mediapipe_scales_when_not_fixed():
    opts = SsdAnchorOptions(input_size_width=64, input_size_height=64, min_scale=0.2, max_scale=0.8, num_layers=2,
                            strides=(16, 32), aspect_ratios=(1.0, 4.0), interpolated_scale_aspect_ratio=1.0)
    a = generate_anchors(opts)
    # Layer 0: 4x4 cells x (2 ratios + 1 interpolated); layer 1: 2x2 x 3.
    assert a.shape == (4 * 4 * 3 + 2 * 2 * 3, 4)
    s0, s1 = 0.2, 0.8
    # ratio 1 -> w = h = scale; ratio 4 -> w = 2 scale, h = scale / 2;
    # interpolated -> sqrt(scale * next scale) (next of the last layer is 1.0).
    np.testing.assert_allclose(a[0:3, 2], [s0, 2 * s0, np.sqrt(s0 * s1)], rtol=1e-6)
    np.testing.assert_allclose(a[0:3, 3], [s0, s0 / 2, np.sqrt(s0 * s1)], rtol=1e-6)
    np.testing.assert_allclose(a[48:51, 2], [s1, 2 * s1, np.sqrt(s1 * 1.0)], rtol=1e-6)


def test_reduce_boxes_in_lowest_layer():
    opts = SsdAnchorOptions(input_size_width=32, input_size_height=32, min_scale=0.2, max_scale=0.9, num_layers=2,
                            strides=(16, 32), reduce_boxes_in_lowest_layer=True)
    a = generate_anchors(opts)
    assert a.shape == (2 * 2 * 3 + 1 * 1 * 2, 4)
    np.testing.assert_allclose(a[0:3, 3], [0.1, 0.2 / np.sqrt(2), 0.2 / np.sqrt(0.5)], rtol=1e-6)


def test_feature_map_sizes_override_strides():
    opts = SsdAnchorOptions(input_size_width=128, input_size_height=128, min_scale=0.1, max_scale=0.5,
                            num_layers=1, strides=(8,), feature_map_width=(4,), feature_map_height=(2,),
                            interpolated_scale_aspect_ratio=0.0, fixed_anchor_size=True)
    a = generate_anchors(opts)
    assert a.shape == (8, 4)
    np.testing.assert_allclose(a[:, 0], np.tile([0.125, 0.375, 0.625, 0.875], 2))
    np.testing.assert_allclose(a[:, 1], np.repeat([0.25, 0.75], 4))


def test_generation_is_cached_and_read_only():
    a = generate_anchors(BLAZEFACE_SHORT_RANGE)
    again = generate_anchors(SsdAnchorOptions(**{**BLAZEFACE_SHORT_RANGE.__dict__, "strides": [8, 16, 16, 16]}))
    assert a is again
    with pytest.raises(ValueError):
        a[0, 0] = 1.0


def test_fixed_anchors_pass_through():
    a = generate_anchors(SsdAnchorOptions(1, 1, 0, 0, 0, fixed_anchors=((0.5, 0.5, 1.0, 1.0),)))
    np.testing.assert_allclose(a, [[0.5, 0.5, 1, 1]])


def test_bad_options_explain_themselves():
    with pytest.raises(ValueError, match="strides needs one entry per layer"):
        SsdAnchorOptions(128, 128, 0.1, 0.75, num_layers=4, strides=(8, 16))
    with pytest.raises(ValueError, match="multiscale"):
        SsdAnchorOptions(128, 128, 0.1, 0.75, num_layers=1, strides=(8,), multiscale_anchor_generation=True)
    with pytest.raises(ValueError, match="one entry per layer"):
        SsdAnchorOptions(128, 128, 0.1, 0.75, num_layers=1, strides=(8,), feature_map_width=(1, 2),
                         feature_map_height=(1, 2))
