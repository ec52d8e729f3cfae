"""The numpy-only TF.js graph reader on a tiny hand-made model.json: weights (float16 and uint8
quantisation undone), decoded attributes, shapes through the vision ops, feature maps by stride,
multiply-adds, and the refusals of a broken export."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from moodcam_tools.convert import tfjs_graph
from moodcam_tools.errors import BuildError


def _s(text: str) -> dict:
    return {"s": base64.b64encode(text.encode()).decode()}


def _ints(values) -> dict:
    return {"list": {"i": [str(v) for v in values]}}


def _conv_attrs(stride: int, padding: str = "SAME") -> dict:
    return {"strides": _ints([1, stride, stride, 1]), "padding": _s(padding), "data_format": _s("NHWC"),
            "dilations": _ints([1, 1, 1, 1]), "fused_ops": {"list": {"s": [_s("BiasAdd")["s"], _s("Relu")["s"]]}}}


RNG = np.random.default_rng(0)
CONV_W = RNG.normal(size=(3, 3, 3, 8)).astype(np.float32)
CONV_B = RNG.normal(size=(8,)).astype(np.float32)
DW_W = RNG.normal(size=(3, 3, 8, 1)).astype(np.float32)
PROJ_Q = np.arange(8 * 4, dtype=np.uint8).reshape(1, 1, 8, 4)       # uint8-quantised 1x1 kernel
PROJ_MIN, PROJ_SCALE = -0.5, 0.01


def write_tiny_model(folder: Path, *, drop_last_byte: bool = False, shard: str = "tiny.bin") -> Path:
    """A 16x16 RGB input, a 3x3 stride-2 conv (float16 weights), a 3x3 stride-2 depthwise conv, a 1x1
    conv (uint8 weights), a keep-dims mean and a concat; nodes listed out of order on purpose."""
    nodes = [
        {"name": "concat", "op": "ConcatV2", "input": ["proj", "proj", "concat/axis"], "attr": {"N": {"i": "2"}}},
        {"name": "image", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [
            {"size": "1"}, {"size": "16"}, {"size": "16"}, {"size": "3"}]}}, "dtype": {"type": "DT_FLOAT"}}},
        {"name": "conv/w", "op": "Const"}, {"name": "conv/b", "op": "Const"}, {"name": "dw/w", "op": "Const"},
        {"name": "proj/w", "op": "Const"}, {"name": "mean/axes", "op": "Const"}, {"name": "concat/axis", "op": "Const"},
        {"name": "conv", "op": "_FusedConv2D", "input": ["image", "conv/w", "conv/b"], "attr": _conv_attrs(2)},
        {"name": "dw", "op": "DepthwiseConv2dNative", "input": ["conv", "dw/w", "^conv"], "attr": _conv_attrs(2)},
        {"name": "proj", "op": "Conv2D", "input": ["dw", "proj/w"], "attr": _conv_attrs(1, "VALID")},
        {"name": "mean", "op": "Mean", "input": ["proj", "mean/axes"], "attr": {"keep_dims": {"b": True}}},
    ]
    specs = [
        ({"name": "conv/w", "shape": [3, 3, 3, 8], "dtype": "float32", "quantization": {"dtype": "float16"}},
         CONV_W.astype("<f2").tobytes()),
        ({"name": "conv/b", "shape": [8], "dtype": "float32"}, CONV_B.astype("<f4").tobytes()),
        ({"name": "dw/w", "shape": [3, 3, 8, 1], "dtype": "float32", "quantization": {"dtype": "float16"}},
         DW_W.astype("<f2").tobytes()),
        ({"name": "proj/w", "shape": [1, 1, 8, 4], "dtype": "float32",
          "quantization": {"dtype": "uint8", "min": PROJ_MIN, "scale": PROJ_SCALE}}, PROJ_Q.tobytes()),
        ({"name": "mean/axes", "shape": [2], "dtype": "int32"}, np.array([1, 2], "<i4").tobytes()),
        ({"name": "concat/axis", "shape": [], "dtype": "int32"}, np.array(-1, "<i4").tobytes()),
    ]
    data = b"".join(raw for _spec, raw in specs)
    (folder / "tiny.bin").write_bytes(data[:-1] if drop_last_byte else data)
    doc = {"format": "graph-model", "generatedBy": "test", "convertedBy": "hand",
           "modelTopology": {"node": nodes, "versions": {}},
           "weightsManifest": [{"paths": [shard], "weights": [spec for spec, _raw in specs]}]}
    path = folder / "model.json"
    path.write_text(json.dumps(doc))
    return path


def test_weights_come_back_with_their_quantisation_undone(tmp_path):
    graph = tfjs_graph.read_graph(write_tiny_model(tmp_path))
    np.testing.assert_array_equal(graph.weights["conv/w"], CONV_W.astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(graph.weights["conv/b"], CONV_B)
    np.testing.assert_allclose(graph.weights["proj/w"], PROJ_Q * PROJ_SCALE + PROJ_MIN, rtol=1e-6)
    assert graph.weights["proj/w"].dtype == np.float32 and graph.weights["mean/axes"].tolist() == [1, 2]
    conv = graph.node("conv")
    assert conv.attrs["strides"] == [1, 2, 2, 1] and conv.attrs["padding"] == "SAME"
    assert conv.attrs["fused_ops"] == ["BiasAdd", "Relu"]
    assert graph.node("dw").inputs == ("conv", "dw/w")            # the control input is dropped
    assert tfjs_graph.weight_stats(graph)["float_params"] == CONV_W.size + CONV_B.size + DW_W.size + PROJ_Q.size


def test_shapes_feature_maps_and_multiply_adds(tmp_path):
    graph = tfjs_graph.read_graph(write_tiny_model(tmp_path))
    shapes = tfjs_graph.infer_shapes(graph)
    assert shapes["conv:0"] == (1, 8, 8, 8) and shapes["dw:0"] == (1, 4, 4, 8) and shapes["proj:0"] == (1, 4, 4, 4)
    assert shapes["mean:0"] == (1, 1, 1, 4) and shapes["concat:0"] == (1, 4, 4, 8)
    assert tfjs_graph.feature_maps(graph, shapes, 16) == [(2, "conv", 8), (4, "proj", 4)]
    macs = tfjs_graph.conv_macs(graph, shapes)
    assert macs == {"conv": 8 * 8 * 8 * 27, "dw": 4 * 4 * 8 * 9, "proj": 4 * 4 * 4 * 8}
    assert tfjs_graph.params_under(graph, "dw") == DW_W.size
    text = tfjs_graph.describe(graph, list_nodes=True)
    assert "stride   4:    4 channels  proj" in text and "M multiply-adds in 3 layers" in text


def test_a_broken_export_is_refused_with_the_fix(tmp_path):
    with pytest.raises(BuildError, match="are not named|end before"):
        tfjs_graph.read_graph(write_tiny_model(tmp_path, drop_last_byte=True))
    with pytest.raises(BuildError, match="outside"):
        tfjs_graph.read_graph(write_tiny_model(tmp_path, shard="../elsewhere.bin"))
    with pytest.raises(BuildError, match="missing"):
        tfjs_graph.read_graph(write_tiny_model(tmp_path, shard="other.bin"))
    layers = tmp_path / "layers.json"
    layers.write_text(json.dumps({"format": "layers-model"}))
    with pytest.raises(BuildError, match="not a TF.js graph model"):
        tfjs_graph.read_graph(layers)
    assert tfjs_graph.main([str(layers)]) == 1
