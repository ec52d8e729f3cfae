"""The detector on the MobileNetV2 trunk (``--init objectron``, train.backbones): heads on the maps the
anchor layouts want, configs that name no backbone still read as BlazeFace, unknown names refused."""
from __future__ import annotations

import numpy as np
import pytest

from moodcam_tools.errors import BuildError

pytestmark = pytest.mark.convert


@pytest.mark.parametrize("size,coding,strides,maps", [(128, "blazeface", None, [(16, 16, 32), (8, 8, 96)]),
                                                      (256, "ssd", None, [(16, 16, 96), (8, 8, 320)]),
                                                      (256, "ssd", (8, 16), [(32, 32, 32), (16, 16, 96)])])
def test_heads_sit_on_the_trunk_maps_of_the_anchor_strides(size, coding, strides, maps):
    from moodcam_tools.train.model import DetectorConfig, build_model

    config = DetectorConfig(("a", "b"), input_size=size, backbone="mobilenetv2_oidv4", box_coding=coding,
                            head_strides=strides)
    assert config.num_anchors == (3584 if strides else 896)            # 32x32x2 + 16x16x6 on the fine maps
    model = build_model(config)
    reg, cls = model(np.zeros((1, size, size, 3), np.float32))
    assert tuple(reg.shape) == (1, config.num_anchors, 4) and tuple(cls.shape) == (1, config.num_anchors, 2)
    heads = [model.get_layer(f"classificator_{tag}") for tag in ("8", "16")]
    assert [tuple(h.input.shape[1:]) for h in heads] == maps
    names = {layer.name for layer in model.layers}
    assert "conv2d" not in names and "Conv" in names                  # no BlazeBlock left
    assert ("expanded_conv_16_project" in names) == (size == 256 and not strides)  # blocks past the last map cut


def test_head_strides_round_trip_and_are_refused_where_there_is_no_such_map(tmp_path):
    from moodcam_tools.train.model import DetectorConfig

    fine = DetectorConfig(("a",), input_size=256, backbone="mobilenetv2_oidv4", head_strides=[8, 16])
    assert fine.head_strides == (8, 16) and fine.anchor_options.strides == (8, 16, 16, 16)
    fine.save(tmp_path / "config.json")
    assert DetectorConfig.load(tmp_path / "config.json") == fine
    assert DetectorConfig(("a",), input_size=256, head_strides=(16, 32)).head_strides is None   # the layout's own
    assert DetectorConfig.from_json({"class_names": ["a"], "input_size": 256}).strides == (16, 32)
    with pytest.raises(BuildError, match="need the MobileNetV2 trunk"):
        DetectorConfig(("a",), input_size=256, head_strides=(8, 16))
    with pytest.raises(BuildError, match=r"head strides \(16, 32\) are not supported at 128 px"):
        DetectorConfig(("a",), input_size=128, head_strides=(16, 32))


def test_backbone_round_trips_and_defaults_to_blazeface(tmp_path):
    from moodcam_tools.train.model import DetectorConfig

    assert DetectorConfig.from_json({"class_names": ["a"], "input_size": 128}).backbone == "blazeface"
    config = DetectorConfig(("a",), backbone="mobilenetv2_oidv4")
    config.save(tmp_path / "config.json")
    assert DetectorConfig.load(tmp_path / "config.json") == config
    with pytest.raises(BuildError, match="unknown backbone 'resnet'"):
        DetectorConfig(("a",), backbone="resnet")


def test_auto_head_strides_follow_the_median_box_size():
    from moodcam_tools.train.anchor_fit import choose_head_strides

    crowns = np.full((50, 2), 38 / 256)                       # tree crowns: median side 38 px at 256 px
    raccoons = np.full((50, 2), 151 / 256)
    assert choose_head_strides(crowns, 256, "mobilenetv2_oidv4") == (
        (8, 16), "the median training box is 38 px of 256, under 64")
    strides, why = choose_head_strides(raccoons, 256, "mobilenetv2_oidv4")
    assert strides is None and "151 px of 256, not under 64" in why
    boundary = np.full((3, 2), 64 / 256)
    assert choose_head_strides(boundary, 256, "mobilenetv2_oidv4")[0] is None
    assert choose_head_strides(np.full((3, 2), 63.9 / 256), 256, "mobilenetv2_oidv4")[0] == (8, 16)
    for size, backbone in ((128, "mobilenetv2_oidv4"), (256, "blazeface")):      # no finer map to move to
        assert choose_head_strides(crowns, size, backbone) == (None, "the layout's own")
