"""Read a TF.js graph model (``model.json`` + weight shards) with numpy alone: its nodes (name, op,
inputs, decoded attributes), its weights (float16 / uint8 / uint16 quantisation undone), and the
shape of every tensor the common vision ops make, so a graph can be studied and its weights
copied into a Keras rebuild without TensorFlow or a browser.

    python -m moodcam_tools.convert.tfjs_graph MODEL.json [--nodes] [--prefix NAME_PREFIX]

prints the op counts, the weight count and bytes, the inputs and outputs, and the feature maps
(the last node at each stride, under ``--prefix`` when given, e.g. the backbone's scope).

What is read (the format tfjs-converter writes, "graph-model"): ``modelTopology.node`` as TF's
NodeDef in JSON (attribute bytes base64-encoded), and ``weightsManifest``: groups of shard
``paths`` whose bytes, concatenated in order, hold each listed weight in turn.
"""
from __future__ import annotations

import argparse
import base64
import collections
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BuildError

# Bytes per element as stored, and the numpy type read (before dequantisation).
_STORED: dict[str, np.dtype] = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "bool": np.dtype("u1"),
           "float16": np.dtype("<f2"), "uint8": np.dtype("u1"), "uint16": np.dtype("<u2")}
_FINAL = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}

Shape = tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class GraphNode:
    name: str
    op: str
    inputs: tuple[str, ...]          # "node", "node:1" (second output); control inputs ("^x") dropped
    attrs: dict[str, Any]


@dataclasses.dataclass
class TfjsGraph:
    nodes: list[GraphNode]
    weights: dict[str, np.ndarray]
    signature: dict[str, Any]
    meta: dict[str, Any]             # format, generatedBy, convertedBy

    def node(self, name: str) -> GraphNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)


# ------------------------------------------------------------------ reading

def decode_attr(value: dict[str, Any]) -> Any:
    """One NodeDef attribute as plain Python: bytes (``s``) as text, ints, floats, bools, dtypes,
    shapes as tuples (-1 unknown), lists of any of these."""
    if "list" in value:
        items = value["list"]
        for key in ("i", "f", "s", "b", "type"):
            if key in items:
                return [decode_attr({key: v}) for v in items[key]]
        return []
    if "s" in value:
        return base64.b64decode(value["s"]).decode("utf-8", "replace")
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "type" in value:
        return value["type"]
    if "shape" in value:
        dims = value["shape"].get("dim", [])
        return tuple(int(d.get("size", -1)) for d in dims)
    if "tensor" in value:
        return value["tensor"]
    return value


def _weight_bytes(spec: dict[str, Any]) -> tuple[np.dtype, int]:
    """(stored element type, element count) of one weightsManifest entry."""
    quant = spec.get("quantization") or {}
    stored = quant.get("dtype", spec["dtype"])
    if stored not in _STORED or spec["dtype"] not in _FINAL:
        raise BuildError(f"weight {spec['name']!r}: unsupported type {spec['dtype']} stored as {stored}",
                         expected="float32 / int32 / bool, optionally quantised to float16, uint8 or uint16")
    return _STORED[stored], int(np.prod(spec["shape"], dtype=np.int64))


def decode_weight(raw: bytes, spec: dict[str, Any]) -> np.ndarray:
    """One weight's bytes -> its array: float16 widened, uint8/uint16 mapped back by ``min + q * scale``."""
    stored, count = _weight_bytes(spec)
    values = np.frombuffer(raw, dtype=stored, count=count)
    quant = spec.get("quantization") or {}
    if quant.get("dtype") in ("uint8", "uint16"):
        values = values.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
    return values.astype(_FINAL[spec["dtype"]]).reshape(spec["shape"])


def read_weights(manifest: list[dict[str, Any]], folder: Path) -> dict[str, np.ndarray]:
    """Every weight of every group: the group's shards concatenated, each weight's bytes in turn."""
    weights: dict[str, np.ndarray] = {}
    root = folder.resolve()
    for group in manifest:
        shards = []
        for rel in group["paths"]:
            path = (folder / rel).resolve()
            if root not in path.parents:
                raise BuildError(f"weight shard {rel!r} lies outside {folder}", fix="use a model.json whose "
                                 "paths name files next to it")
            if not path.is_file():
                raise BuildError(f"weight shard {path} is missing", fix="keep the .bin files next to model.json")
            shards.append(path.read_bytes())
        data, offset = b"".join(shards), 0
        for spec in group["weights"]:
            stored, count = _weight_bytes(spec)
            size = stored.itemsize * count
            if offset + size > len(data):
                raise BuildError(f"the shards of {group['paths']} end before weight {spec['name']!r} "
                                 f"({len(data)} bytes, need {offset + size})", fix="re-download the model")
            weights[spec["name"]] = decode_weight(data[offset:offset + size], spec)
            offset += size
        if offset != len(data):
            raise BuildError(f"{len(data) - offset} bytes of {group['paths']} are not named by the manifest",
                             fix="re-download the model; shards and model.json must come from the same export")
    return weights


def read_graph(model_json: Path) -> TfjsGraph:
    model_json = Path(model_json)
    try:
        doc = json.loads(model_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BuildError(f"cannot read {model_json}: {error}") from None
    if doc.get("format") != "graph-model":
        raise BuildError(f"{model_json} is a {doc.get('format')!r}, not a TF.js graph model",
                         expected='"format": "graph-model"')
    nodes = [GraphNode(n["name"], n["op"], tuple(i for i in n.get("input", []) if not i.startswith("^")),
                       {k: decode_attr(v) for k, v in n.get("attr", {}).items()})
             for n in doc["modelTopology"]["node"]]
    meta = {k: doc.get(k) for k in ("format", "generatedBy", "convertedBy")}
    return TfjsGraph(nodes, read_weights(doc["weightsManifest"], model_json.parent), doc.get("signature", {}), meta)


# ------------------------------------------------------------------ shapes

def _split_ref(ref: str) -> tuple[str, int]:
    name, _, index = ref.partition(":")
    return name, int(index) if index else 0


def topological_order(graph: TfjsGraph) -> list[GraphNode]:
    """The nodes, each after its inputs (a frozen graph's JSON order usually is one, but need not be)."""
    by_name = {n.name: n for n in graph.nodes}
    indegree = {n.name: 0 for n in graph.nodes}
    users: dict[str, list[str]] = collections.defaultdict(list)
    for node in graph.nodes:
        for ref in node.inputs:
            src = _split_ref(ref)[0]
            if src in by_name:
                indegree[node.name] += 1
                users[src].append(node.name)
    ready = collections.deque(n.name for n in graph.nodes if indegree[n.name] == 0)
    order = []
    while ready:
        name = ready.popleft()
        order.append(by_name[name])
        for user in users[name]:
            indegree[user] -= 1
            if indegree[user] == 0:
                ready.append(user)
    if len(order) != len(graph.nodes):
        raise BuildError("the graph has a cycle", expected="a frozen inference graph")
    return order


_SAME_SHAPE = {"Relu", "Relu6", "Sigmoid", "Tanh", "LeakyRelu", "Elu", "Identity", "Cast", "Exp", "Neg",
               "Sqrt", "Rsqrt", "Square", "Softmax", "Prelu"}
_BINARY = {"Add", "AddV2", "Mul", "Sub", "RealDiv", "Maximum", "Minimum", "Equal", "FloorDiv", "FloorMod",
           "Greater", "Less", "Pow", "SquaredDifference", "BiasAdd"}
CONV_OPS = ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative")


def _spatial(size: int, kernel: int, stride: int, dilation: int, padding: str, pads: tuple[int, int]) -> int:
    if padding == "SAME":
        return math.ceil(size / stride)
    span = (kernel - 1) * dilation + 1
    return (size + pads[0] + pads[1] - span) // stride + 1


def _window_shape(node: GraphNode, x: Shape, kernel_hw: tuple[int, int], channels: int) -> Shape:
    """Output shape of a conv or pool: ``kernel_hw`` and ``channels`` are the op's own."""
    nchw = node.attrs.get("data_format", "NHWC") == "NCHW"
    h_axis, w_axis = (2, 3) if nchw else (1, 2)
    strides = node.attrs.get("strides", [1, 1, 1, 1])
    dilations = node.attrs.get("dilations", [1, 1, 1, 1])
    padding = node.attrs.get("padding", "VALID")
    explicit = node.attrs.get("explicit_paddings") or [0] * 8
    size = []
    for axis, k in ((h_axis, kernel_hw[0]), (w_axis, kernel_hw[1])):
        size.append(_spatial(x[axis], k, strides[axis], dilations[axis], padding,
                             (explicit[2 * axis], explicit[2 * axis + 1])))
    return (x[0], channels, *size) if nchw else (x[0], *size, channels)


def _const(graph: TfjsGraph, ref: str) -> np.ndarray | None:
    return graph.weights.get(_split_ref(ref)[0])


def _node_shapes(graph: TfjsGraph, node: GraphNode, shapes: dict[str, Shape | None]) -> list[Shape | None]:
    """Output shapes of one node from its inputs' shapes; [None] for an op this reader does not model."""
    ins = [shapes.get(ref if ":" in ref else f"{ref}:0") for ref in node.inputs]
    x = ins[0] if ins else None
    op = node.op
    if op == "Const":
        return [tuple(graph.weights[node.name].shape) if node.name in graph.weights else None]
    if op == "Placeholder":
        return [tuple(node.attrs.get("shape", ())) or None]
    if x is None:
        return [None]
    if op in _SAME_SHAPE:
        return [x]
    if op in _BINARY:
        try:
            return [tuple(np.broadcast_shapes(*[s for s in ins if s is not None]))]
        except ValueError:
            return [None]
    kernel = _const(graph, node.inputs[1]) if len(node.inputs) > 1 else None
    if op in CONV_OPS and kernel is not None:
        kh, kw, cin, cout = kernel.shape
        return [_window_shape(node, x, (kh, kw), cout if "Depthwise" not in op else cin * cout)]
    if op in ("MaxPool", "AvgPool"):
        ksize = node.attrs.get("ksize", [1, 1, 1, 1])
        nchw = node.attrs.get("data_format", "NHWC") == "NCHW"
        return [_window_shape(node, x, (ksize[2], ksize[3]) if nchw else (ksize[1], ksize[2]),
                              x[1] if nchw else x[3])]
    if op == "ConcatV2":
        axis = _const(graph, node.inputs[-1])
        parts = [p for p in ins[:-1] if p is not None]
        if axis is None or len(parts) != len(ins) - 1:
            return [None]
        a = int(axis) % len(x)
        return [tuple(sum(p[a] for p in parts) if i == a else d for i, d in enumerate(x))]
    if op == "Transpose":
        perm = _const(graph, node.inputs[1])
        return [tuple(x[int(p)] for p in perm)] if perm is not None else [None]
    if op in ("Pad", "PadV2", "MirrorPad"):
        pads = _const(graph, node.inputs[1])
        return [tuple(d + int(p[0]) + int(p[1]) for d, p in zip(x, pads))] if pads is not None else [None]
    if op in ("Mean", "Sum", "Max"):
        axes = _const(graph, node.inputs[1])
        if axes is None:
            return [None]
        drop = {int(a) % len(x) for a in np.atleast_1d(axes)}
        keep = node.attrs.get("keep_dims", False)
        return [tuple(1 if i in drop else d for i, d in enumerate(x) if keep or i not in drop)]
    if op in ("ResizeBilinear", "ResizeNearestNeighbor"):
        size = _const(graph, node.inputs[1])
        return [(x[0], int(size[0]), int(size[1]), x[3])] if size is not None else [None]
    if op == "Reshape":
        target = _const(graph, node.inputs[1])
        if target is None:
            return [None]
        dims = [int(d) for d in target]
        if -1 in dims:
            known = int(np.prod([d for d in dims if d != -1]))
            dims[dims.index(-1)] = int(np.prod(x)) // max(known, 1)
        return [tuple(dims)]
    if op == "SplitV":
        sizes, axis = _const(graph, node.inputs[1]), _const(graph, node.inputs[2])
        if sizes is None or axis is None:
            return [None]
        a = int(axis) % len(x)
        return [tuple(int(s) if i == a else d for i, d in enumerate(x)) for s in sizes]
    return [None]


def infer_shapes(graph: TfjsGraph) -> dict[str, Shape | None]:
    """Shape of every tensor ("node:k"), None where this reader does not model the op."""
    shapes: dict[str, Shape | None] = {}
    for node in topological_order(graph):
        for k, shape in enumerate(_node_shapes(graph, node, shapes)):
            shapes[f"{node.name}:{k}"] = shape
    return shapes


# ------------------------------------------------------------------ summaries

def weight_stats(graph: TfjsGraph) -> dict[str, int]:
    """Float parameters (count and bytes as stored) and int constants (bytes)."""
    floats = [w for w in graph.weights.values() if w.dtype == np.float32]
    ints = [w for w in graph.weights.values() if w.dtype != np.float32]
    return {"float_params": int(sum(w.size for w in floats)), "float_tensors": len(floats),
            "int_bytes": int(sum(w.nbytes for w in ints))}


def conv_macs(graph: TfjsGraph, shapes: dict[str, Shape | None]) -> dict[str, int]:
    """Multiply-adds of each convolution (kernel area x input channels per output x output size): the
    bulk of a vision graph's work, so the ratio of two graphs' totals predicts their ratio of ms per frame
    on the same backend better than their weight counts do."""
    macs: dict[str, int] = {}
    for node in graph.nodes:
        out = shapes.get(f"{node.name}:0")
        kernel = _const(graph, node.inputs[1]) if node.op in CONV_OPS and len(node.inputs) > 1 else None
        if kernel is None or out is None or kernel.ndim != 4:
            continue
        kh, kw, cin, _ = kernel.shape
        per_output = kh * kw * (1 if "Depthwise" in node.op else cin)
        macs[node.name] = int(np.prod(out)) * per_output
    return macs


def params_under(graph: TfjsGraph, prefix: str) -> int:
    """Float parameters read by nodes whose name starts with ``prefix`` (a name scope such as a backbone)."""
    used = {_split_ref(ref)[0] for node in graph.nodes if node.name.startswith(prefix) for ref in node.inputs}
    return int(sum(w.size for name, w in graph.weights.items() if name in used and w.dtype == np.float32))


def feature_maps(graph: TfjsGraph, shapes: dict[str, Shape | None], input_hw: int, prefix: str = "",
                 nchw: bool = False) -> list[tuple[int, str, int]]:
    """(stride, node, channels): the last convolution (in topological order) at each stride whose name
    starts with ``prefix``: where a backbone's stride-8/16/32 maps are taken for a detection head."""
    last: dict[int, tuple[str, int]] = {}
    for node in topological_order(graph):
        shape = shapes.get(f"{node.name}:0")
        if node.op not in CONV_OPS or shape is None or len(shape) != 4 or not node.name.startswith(prefix):
            continue
        height, channels = (shape[2], shape[1]) if nchw else (shape[1], shape[3])
        if height:
            last[input_hw // height] = (node.name, channels)
    return [(stride, name, channels) for stride, (name, channels) in sorted(last.items())]


def describe(graph: TfjsGraph, *, prefix: str = "", list_nodes: bool = False) -> str:
    shapes = infer_shapes(graph)
    stats = weight_stats(graph)
    ops = collections.Counter(n.op for n in graph.nodes)
    lines = [f"format {graph.meta.get('format')}, generated by {graph.meta.get('generatedBy')}, "
             f"converted by {graph.meta.get('convertedBy')}",
             f"{len(graph.nodes)} nodes; ops: " + ", ".join(f"{op} {n}" for op, n in ops.most_common()),
             f"{stats['float_params']:,} float parameters in {stats['float_tensors']} tensors; "
             f"{stats['int_bytes']:,} bytes of int constants"]
    macs = conv_macs(graph, shapes)
    lines.append(f"convolutions: {sum(macs.values()) / 1e6:,.0f} M multiply-adds in {len(macs)} layers")
    if prefix:
        scoped = sum(v for k, v in macs.items() if k.startswith(prefix))
        lines.append(f"under {prefix}: {params_under(graph, prefix):,} float parameters, "
                     f"{scoped / 1e6:,.0f} M multiply-adds")
    for kind in ("inputs", "outputs"):
        for name, spec in graph.signature.get(kind, {}).items():
            dims = tuple(int(d.get("size", -1)) for d in spec.get("tensorShape", {}).get("dim", []))
            lines.append(f"{kind[:-1]} {name} {dims}")
    placeholder = next((n for n in graph.nodes if n.op == "Placeholder"), None)
    in_shape = shapes.get(f"{placeholder.name}:0") if placeholder else None
    if in_shape and len(in_shape) == 4:
        nchw = in_shape[1] in (1, 3) and in_shape[3] not in (1, 3)
        hw = in_shape[2] if nchw else in_shape[1]
        lines.append(f"feature maps (last conv at each stride{', under ' + prefix if prefix else ''}):")
        # onnx-tf graphs keep NCHW tensors between NHWC convolutions: their convs still see NHWC.
        for stride, name, channels in feature_maps(graph, shapes, hw, prefix):
            lines.append(f"  stride {stride:>3}: {channels:>4} channels  {name}")
    if list_nodes:
        for node in topological_order(graph):
            if node.op == "Const":
                continue
            kernel = [tuple(graph.weights[_split_ref(i)[0]].shape) for i in node.inputs[1:]
                      if _split_ref(i)[0] in graph.weights and graph.weights[_split_ref(i)[0]].ndim >= 1]
            extra = node.attrs.get("fused_ops") or ""
            lines.append(f"{node.op:<28} {str(shapes.get(node.name + ':0')):<22} {node.name}"
                         f"{'  weights ' + str(kernel) if kernel else ''}{'  fused ' + str(extra) if extra else ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moodcam_tools.convert.tfjs_graph",
                                     description="Describe a TF.js graph model: ops, weights, shapes, feature maps.")
    parser.add_argument("model_json", type=Path)
    parser.add_argument("--nodes", action="store_true", help="also list every node with its output shape")
    parser.add_argument("--prefix", default="", help="only nodes under this name scope count as feature maps")
    args = parser.parse_args(argv)
    try:
        print(describe(read_graph(args.model_json), prefix=args.prefix, list_nodes=args.nodes))
    except BuildError as error:
        print(error.render(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
