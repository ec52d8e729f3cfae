"""Rebuild a TFLite graph as a TensorFlow graph and save it as a SavedModel.

The walk is generic: operators run in file order (TFLite stores them
topologically sorted), each through its builder in `ops.OPS`. Constants stay
numpy until an op consumes them, then become named `tf.constant`s, so the
SavedModel has no variables and the tensorflowjs converter turns them straight
into weights. Every op is checked against the table before anything is built,
so an unsupported model fails at once with all missing ops named.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..errors import BuildError
from . import ops as op_table
from .tflite_reader import TFLiteGraph


def _sanitize(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.\-/]", "_", name).strip("/_") or "const"
    if not re.match(r"[A-Za-z0-9.]", name):
        name = "c" + name
    return name


class BuildContext:
    def __init__(self, graph: TFLiteGraph):
        self.graph = graph
        self.model_name = graph.model_name
        self.tensors = graph.tensors
        self.values: dict[int, object] = {}

    def make_const(self, array: np.ndarray, index: int):
        return tf.constant(array, name=_sanitize(self.tensors[index].name))

    def const_array(self, index: int, op) -> np.ndarray:
        value = self.values.get(index)
        if isinstance(value, np.ndarray):
            return value
        data = self.tensors[index].data
        if data is None:
            raise op_table.UnsupportedOpError(f"{op.op_name} with a computed (non-constant) weight input",
                                              self.model_name,
                                              f"input tensor {self.tensors[index].name!r}")
        if self.tensors[index].quantized:
            raise op_table.UnsupportedOpError(f"{op.op_name} on quantised {self.tensors[index].type_name} weights",
                                              self.model_name, f"tensor {self.tensors[index].name!r}",
                                              feature=True)
        return data

    def const_tensor(self, index: int):
        array = self.values.get(index)
        if not isinstance(array, np.ndarray):
            array = self.tensors[index].data
        if array is None:
            raise BuildError(f"{self.model_name}: tensor {self.tensors[index].name!r} is used as a constant "
                             "but holds no data")
        if array.dtype == np.float16:
            array = array.astype(np.float32)
        return self.make_const(array, index)

    def value(self, index: int):
        value = self.values.get(index)
        if value is None:
            if self.tensors[index].data is None:
                raise BuildError(f"{self.model_name}: tensor {self.tensors[index].name!r} is used before "
                                 "it is computed (graph not in topological order)")
            value = self.tensors[index].data
        if isinstance(value, np.ndarray):
            if value.dtype == np.float16:
                value = value.astype(np.float32)
            value = self.make_const(value, index)
            self.values[index] = value
        return value


def check_supported(graph: TFLiteGraph) -> None:
    missing = sorted({op.op_name for op in graph.operators if op.op_name not in op_table.OPS})
    if missing:
        raise op_table.UnsupportedOpError(", ".join(missing), graph.model_name)
    for index in graph.inputs:
        t = graph.tensors[index]
        if t.dtype != np.float32:
            raise op_table.UnsupportedOpError(f"input {t.name!r} of type {t.type_name}", graph.model_name,
                                              "only float32 inputs are handled", feature=True)
    for t in graph.tensors:
        if t.quantized:
            users = sorted({op.op_name for op in graph.operators if t.index in op.inputs})
            raise op_table.UnsupportedOpError(f"integer quantisation ({t.type_name} tensor {t.name!r} "
                                              f"used by {', '.join(users) or 'no op'})", graph.model_name,
                                              "only float32 models with fp16 weights are handled", feature=True)


def build_function(graph: TFLiteGraph, *, input_name: str, output_names: dict[str, str]):
    """Return a concrete tf.function: {input_name: x} -> {alias: output}."""
    check_supported(graph)
    if len(graph.inputs) != 1:
        raise BuildError(f"{graph.model_name} has {len(graph.inputs)} inputs; the converter handles one")
    tflite_outputs = {graph.tensors[i].name: i for i in graph.outputs}
    unknown = sorted(set(output_names) - set(tflite_outputs))
    if unknown or len(output_names) != len(tflite_outputs):
        raise BuildError(f"{graph.model_name}: output names {sorted(output_names)} do not match the model's "
                         f"outputs {sorted(tflite_outputs)}")
    in_tensor = graph.tensors[graph.inputs[0]]

    @tf.function(input_signature=[tf.TensorSpec(in_tensor.shape, tf.float32, name=input_name)],
                 autograph=False)
    def model(x):
        ctx = BuildContext(graph)
        ctx.values[graph.inputs[0]] = x
        for op in graph.operators:
            results = op_table.builder_for(op.op_name, graph.model_name)(ctx, op)
            for index, result in zip(op.outputs, results):
                ctx.values[index] = result
        out = {}
        for tflite_name, alias in sorted(output_names.items(), key=lambda kv: kv[1]):
            value = ctx.value(tflite_outputs[tflite_name])
            expected = graph.tensors[tflite_outputs[tflite_name]].shape
            if tuple(value.shape) != tuple(expected):
                raise BuildError(f"{graph.model_name}: rebuilt output {tflite_name!r} has shape "
                                 f"{tuple(value.shape)}, the TFLite model says {tuple(expected)}")
            out[alias] = tf.identity(value, name=alias)
        return out

    return model.get_concrete_function()


def save(concrete, directory: Path) -> Path:
    module = tf.Module()
    module.serve = concrete
    tf.saved_model.save(module, str(directory), signatures={"serving_default": concrete})
    return directory


def run_saved_model(directory: Path, inputs: np.ndarray) -> dict[str, np.ndarray]:
    loaded = tf.saved_model.load(str(directory))
    fn = loaded.signatures["serving_default"]
    name = list(fn.structured_input_signature[1].keys())[0]
    results = [fn(**{name: tf.constant(x[None].astype(np.float32))}) for x in inputs]
    return {k: np.concatenate([r[k].numpy() for r in results]) for k in results[0]}
