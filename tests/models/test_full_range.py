"""BlazeFace full range (issue 12): sparse weights densified offline, and the manifest
entry's anchors and decoding are MediaPipe's own settings for the full-range graph.

- sparse.densify on hand-made CSR, block and permuted tensors (TFLite's format).
- Every sparse tensor of face_detection_full_range_sparse.tflite, densified by
  the reader, equals the TFLite interpreter's DENSIFY output bit for bit (the
  interpreter runs in a subprocess without default delegates: XNNPACK would take
  DENSIFY over and leave its output zero).
- The FaceDetectionOptions that MediaPipe 0.10.21 compiled into its graph
  (serialised inside the wheel's _framework_bindings library: tensor size, layers,
  strides, box count, scales, score threshold) equal the manifest entry's, for
  full range and, as a control, short range.
"""
from __future__ import annotations

import importlib.util
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from moodcam_tools.convert import sources, specs
from moodcam_tools.convert.sparse import DENSE, SPARSE_CSR, DimMetadata, Sparsity, densify
from moodcam_tools.errors import BuildError

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
BINDINGS = "mediapipe/python/_framework_bindings.cpython-311-x86_64-linux-gnu.so"


# ------------------------------------------------------------------ densify, by hand


def test_densify_csr_rows():
    m = np.array([[0, 1.5, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]], np.float16)
    s = Sparsity((0, 1), (), (DimMetadata(DENSE, 3), DimMetadata(SPARSE_CSR, 0, (0, 2, 2, 4), (1, 3, 0, 3))))
    out = densify(np.array([1.5, 2, 3, 4], np.float16), (3, 4), s)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out, m)


def test_densify_blocks():
    # 4x4 in 2x2 blocks: blocks (0, 0) and (1, 1) stored, each row-major.
    s = Sparsity((0, 1, 2, 3), (0, 1), (DimMetadata(DENSE, 2), DimMetadata(SPARSE_CSR, 0, (0, 1, 2), (0, 1)),
                                       DimMetadata(DENSE, 2), DimMetadata(DENSE, 2)))
    out = densify(np.arange(1, 9, dtype=np.float32), (4, 4), s)
    expected = np.zeros((4, 4), np.float32)
    expected[:2, :2] = [[1, 2], [3, 4]]
    expected[2:, 2:] = [[5, 6], [7, 8]]
    np.testing.assert_array_equal(out, expected)


def test_densify_traversal_order_is_honoured():
    s = Sparsity((1, 0), (), (DimMetadata(DENSE, 3), DimMetadata(DENSE, 2)))
    out = densify(np.arange(6, dtype=np.float32), (2, 3), s)     # stored column by column
    np.testing.assert_array_equal(out, np.arange(6).reshape(3, 2).T)


def test_densify_refuses_inconsistent_metadata():
    s = Sparsity((0, 1), (), (DimMetadata(DENSE, 2), DimMetadata(SPARSE_CSR, 0, (0, 1, 2), (0, 9))))
    with pytest.raises(BuildError, match="outside the shape"):
        densify(np.ones(2, np.float32), (2, 4), s)
    with pytest.raises(BuildError, match="stored values"):
        densify(np.ones(3, np.float32), (2, 4),
                Sparsity((0, 1), (), (DimMetadata(DENSE, 2), DimMetadata(SPARSE_CSR, 0, (0, 1, 2), (0, 1)))))


# ------------------------------------------------------------------ the real model


def _require_tensorflow() -> None:
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (needs the convert extra)")


@pytest.mark.convert
def test_every_densified_tensor_equals_the_interpreters(source_wheels, tmp_path):
    _require_tensorflow()
    from moodcam_tools.convert import cli
    from moodcam_tools.convert.tflite_reader import read_tflite

    spec = specs.BLAZEFACE_FULL_RANGE
    path = sources.extract(spec.source, source_wheels[spec.source.wheel.filename], tmp_path)
    graph = read_tflite(path)
    sparse = [t for t in graph.tensors if t.sparsity is not None]
    densify_ops = [op for op in graph.operators if op.op_name == "DENSIFY"]
    assert len(sparse) == len(densify_ops) == 46
    assert all(graph.tensors[op.inputs[0]].sparsity is not None for op in densify_ops)
    # Real zeros were dropped: every densified tensor holds zeros, none is all zero.
    assert all(0 < np.count_nonzero(t.data) < t.data.size for t in sparse)
    x = cli.verification_inputs((192, 192, 3), low=-1.0, high=1.0, count=1)
    assert cli.check_densified(graph, path, x, tmp_path / "verify") == 46   # raises on any bit of difference


# ------------------------------------------------------------------ MediaPipe's own graph options

# FaceDetectionOptions (mediapipe/modules/face_detection/face_detection.proto; field numbers in the
# wheel's face_detection_pb2.py): scalar fields we compare.
_FIELDS = {21: "tensor_width", 22: "tensor_height", 23: "num_layers", 24: "strides",
           25: "interpolated_scale_aspect_ratio", 31: "num_boxes", 32: "x_scale", 33: "y_scale",
           34: "w_scale", 35: "h_scale", 36: "min_score_thresh"}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def _graph_options(library: bytes, model_file: str) -> dict:
    """The FaceDetectionOptions message that names `model_file`, decoded from the library's bytes."""
    path = f"mediapipe/modules/face_detection/{model_file}".encode()
    at = library.find(b"\x0a" + bytes([len(path)]) + path)        # field 1 (model_path), length < 128
    assert at > 0, f"no FaceDetectionOptions for {model_file} in {BINDINGS}"
    # The message is the value of an Any (field 2, length-delimited) just before it.
    for k in (1, 2, 3):
        if library[at - k - 1] == 0x12:
            length, start = _varint(library, at - k)
            if start == at:
                break
    else:
        raise AssertionError("the options message is not where an Any's value would be")
    out: dict = {}
    pos, end = at, at + length
    while pos < end:
        key, pos = _varint(library, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(library, pos)
        elif wire == 5:
            (value,) = struct.unpack_from("<f", library, pos)
            pos += 4
        elif wire == 2:
            n, pos = _varint(library, pos)
            value = library[pos:pos + n]
            pos += n
        else:
            raise AssertionError(f"unexpected wire type {wire} in FaceDetectionOptions")
        name = _FIELDS.get(field)
        if name == "strides":
            out.setdefault(name, []).append(value)
        elif name:
            out[name] = value
    assert pos == end
    return out


@pytest.fixture(scope="module")
def mediapipe_options(source_wheels) -> dict[str, dict]:
    with zipfile.ZipFile(source_wheels[sources.MEDIAPIPE.filename]) as wheel:
        library = wheel.read(BINDINGS)
    return {"blazeface_short_range": _graph_options(library, "face_detection_short_range.tflite"),
            "blazeface_full_range": _graph_options(library, "face_detection_full_range_sparse.tflite")}


@pytest.mark.parametrize("name", ["blazeface_short_range", "blazeface_full_range"])
def test_manifest_entry_uses_mediapipes_graph_options(mediapipe_options, name):
    from moodcam.manifest import parse_manifest

    mp = mediapipe_options[name]
    entry = json.loads((MODELS / "manifest.json").read_text())["models"][name]
    a, d = entry["anchors"], entry["decoding"]
    assert (a["input_size_width"], a["input_size_height"]) == (mp["tensor_width"], mp["tensor_height"])
    assert entry["input"]["size"] == [mp["tensor_width"], mp["tensor_height"]]
    assert a["num_layers"] == mp["num_layers"] and a["strides"] == mp["strides"]
    # interpolated_scale_aspect_ratio defaults to 1 in the proto (absent = 1).
    assert a["interpolated_scale_aspect_ratio"] == pytest.approx(mp.get("interpolated_scale_aspect_ratio", 1.0))
    assert a["num_anchors"] == d["num_boxes"] == mp["num_boxes"]
    for key in ("x_scale", "y_scale", "w_scale", "h_scale"):
        assert d[key] == pytest.approx(mp[key])
    if "min_score_thresh" in mp:                     # full range sets it; short range keeps the 0.5 default
        assert d["min_score_thresh"] == pytest.approx(mp["min_score_thresh"], abs=1e-6)
    else:
        assert d["min_score_thresh"] == 0.5
    spec = parse_manifest((MODELS / "manifest.json").read_text())[name].detector_spec()
    assert spec.decode.num_boxes == mp["num_boxes"]


def test_full_range_entry(mediapipe_options):
    from moodcam.detection import BLAZEFACE_FULL_RANGE_SPEC
    from moodcam.manifest import parse_manifest

    manifest = json.loads((MODELS / "manifest.json").read_text())
    entry = manifest["models"]["blazeface_full_range"]
    assert mediapipe_options["blazeface_full_range"] == {
        "tensor_width": 192, "tensor_height": 192, "num_layers": 1, "strides": [4],
        "interpolated_scale_aspect_ratio": 0.0, "num_boxes": 2304, "x_scale": 192.0, "y_scale": 192.0,
        "w_scale": 192.0, "h_scale": 192.0, "min_score_thresh": pytest.approx(0.6)}
    assert entry["task"] == "face_detection" and entry["licence"] == "Apache-2.0"
    assert entry["source"]["path"] == "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite"
    assert entry["source"]["version"] == "0.10.21" and entry["source"]["package"] == "mediapipe"
    assert entry["source_ops"]["DENSIFY"] == 46
    assert entry["input"]["shape"] == [1, 192, 192, 3]
    assert entry["input"]["normalisation"]["formula"] == "(x-127.5)/127.5"
    assert {o["key"]: o["shape"] for o in entry["outputs"]} == {"regressors": [1, 2304, 16],
                                                                "classificators": [1, 2304, 1]}
    assert entry["decoding"]["nms"] == {"algorithm": "weighted", "min_suppression_threshold": 0.3,
                                        "overlap_type": "intersection_over_union"}
    parsed = parse_manifest(json.dumps(manifest))["blazeface_full_range"]
    assert parsed.detector_spec() == BLAZEFACE_FULL_RANGE_SPEC
    card = (MODELS / entry["card"]).read_text()
    assert "DENSIFY" in card and "5 m" in card and entry["source"]["sha256"] in card
