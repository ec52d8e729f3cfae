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


def test_blazeface_full_range_matches_mediapipes_anchor_options():
    """face_detection_full_range.pbtxt sets, over face_detection.pbtxt's SsdAnchorsCalculator defaults
    (min_scale 0.1484375, max_scale 0.75, offsets 0.5, aspect ratio 1, fixed_anchor_size): a 192x192
    tensor, num_layers 1, strides [4], interpolated_scale_aspect_ratio 0 -> 48x48 cells, one anchor each."""
    o = BLAZEFACE_FULL_RANGE
    assert (o.input_size_width, o.input_size_height, o.num_layers, o.strides) == (192, 192, 1, (4,))
    assert (o.min_scale, o.max_scale, o.anchor_offset_x, o.anchor_offset_y) == (0.1484375, 0.75, 0.5, 0.5)
    assert o.aspect_ratios == (1.0,) and o.interpolated_scale_aspect_ratio == 0.0
    assert o.fixed_anchor_size and not o.reduce_boxes_in_lowest_layer and not o.feature_map_width
    a = generate_anchors(o)
    assert a.shape == (2304, 4) and a.dtype == np.float32
    # Rows first, one anchor per cell: anchor i sits in cell (row i // 48, column i % 48).
    i = np.arange(2304)
    np.testing.assert_allclose(a[:, 0], (i % 48 + 0.5) / 48, rtol=0, atol=1e-7)
    np.testing.assert_allclose(a[:, 1], (i // 48 + 0.5) / 48, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(a[:, 2:], 1.0)
    np.testing.assert_allclose(a[0], [0.5 / 48, 0.5 / 48, 1, 1])
    np.testing.assert_allclose(a[47], [47.5 / 48, 0.5 / 48, 1, 1])
    np.testing.assert_allclose(a[48], [0.5 / 48, 1.5 / 48, 1, 1])
    np.testing.assert_allclose(a[-1], [47.5 / 48, 47.5 / 48, 1, 1])
    # Without fixed_anchor_size MediaPipe's single-layer scale is (min + max) / 2 and, with
    # interpolated_scale_aspect_ratio 0, no second anchor per cell.
    free = generate_anchors(SsdAnchorOptions(**{**o.__dict__, "fixed_anchor_size": False}))
    assert free.shape == (2304, 4)
    np.testing.assert_allclose(free[:, 2:], (0.1484375 + 0.75) / 2, rtol=1e-6)


def test_full_range_spec_decodes_with_the_graphs_settings():
    from moodcam.detection import BLAZEFACE_FULL_RANGE_DECODE, BLAZEFACE_FULL_RANGE_SPEC

    d = BLAZEFACE_FULL_RANGE_DECODE
    assert d.num_boxes == 2304 and (d.x_scale, d.y_scale, d.w_scale, d.h_scale) == (192.0,) * 4
    assert d.min_score_thresh == 0.6 and d.num_coords == 16 and d.num_keypoints == 6
    assert BLAZEFACE_FULL_RANGE_SPEC.input_size == (192, 192)
    n = BLAZEFACE_FULL_RANGE_SPEC.nms
    assert (n.algorithm, n.min_suppression_threshold, n.min_score) == ("weighted", 0.3, 0.6)
