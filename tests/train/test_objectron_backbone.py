"""The detector on the MobileNetV2 trunk (``--init objectron``, train.backbones): heads on the maps the
anchor layouts want, configs that name no backbone still read as BlazeFace, unknown names refused."""
from __future__ import annotations

import numpy as np
import pytest

from moodcam_tools.errors import BuildError

pytestmark = pytest.mark.convert


@pytest.mark.parametrize("size,coding,maps", [(128, "blazeface", [(16, 16, 32), (8, 8, 96)]),
                                              (256, "ssd", [(16, 16, 96), (8, 8, 320)])])
def test_heads_sit_on_the_trunk_maps_of_the_anchor_strides(size, coding, maps):
    from moodcam_tools.train.model import DetectorConfig, build_model

    config = DetectorConfig(("a", "b"), input_size=size, backbone="mobilenetv2_oidv4", box_coding=coding)
    model = build_model(config)
    reg, cls = model(np.zeros((1, size, size, 3), np.float32))
    assert tuple(reg.shape) == (1, config.num_anchors, 4) and tuple(cls.shape) == (1, config.num_anchors, 2)
    heads = [model.get_layer(f"classificator_{tag}") for tag in ("8", "16")]
    assert [tuple(h.input.shape[1:]) for h in heads] == maps
    names = {layer.name for layer in model.layers}
    assert "conv2d" not in names and "Conv" in names                  # no BlazeBlock left
    assert ("expanded_conv_16_project" in names) == (size == 256)      # blocks past the last map left out


def test_backbone_round_trips_and_defaults_to_blazeface(tmp_path):
    from moodcam_tools.train.model import DetectorConfig

    assert DetectorConfig.from_json({"class_names": ["a"], "input_size": 128}).backbone == "blazeface"
    config = DetectorConfig(("a",), backbone="mobilenetv2_oidv4")
    config.save(tmp_path / "config.json")
    assert DetectorConfig.load(tmp_path / "config.json") == config
    with pytest.raises(BuildError, match="unknown backbone 'resnet'"):
        DetectorConfig(("a",), backbone="resnet")
