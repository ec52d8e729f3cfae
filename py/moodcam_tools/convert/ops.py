"""The op table: TFLite builtin operator -> TensorFlow builder.

Each builder gets a `BuildContext` (see rebuild.py) and the operator, and
returns the op's outputs as TF tensors or, for ops on constants (DEQUANTIZE of
fp16 weights), as numpy arrays that stay constants. Layouts: TFLite CONV_2D
filters are OHWI (TF wants HWIO), DEPTHWISE_CONV_2D filters 1HW(C*M) (TF wants
HWCM). TFLite and TF share the SAME-padding rule (extra pad bottom/right).

Tested end to end (parity with the TFLite interpreter): everything BlazeFace
short range and FaceMesh use - CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE, ADD,
RELU, PRELU, PAD, MAX_POOL_2D, RESHAPE, CONCATENATION, and for BlazeFace full
range DENSIFY (of constants densified by sparse.py), RESIZE_BILINEAR and
DEPTH_TO_SPACE. The elementwise and
pooling extras below are small and checked against the interpreter by
tests/models/test_convert_errors.py::test_extra_ops_match_the_interpreter.
An op missing here stops the build with UnsupportedOpError naming it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from ..errors import BuildError


class UnsupportedOpError(BuildError):
    """A model uses an op (or an op feature) the table cannot rebuild; names both."""

    def __init__(self, op_name: str, model_name: str, detail: str = "", *, feature: bool = False):
        self.op_name = op_name
        self.model_name = model_name
        what = "feature" if feature else "op"
        super().__init__(
            f"unsupported TFLite {what} {op_name} in {model_name}" + (f": {detail}" if detail else ""),
            expected="ops in the table of moodcam_tools/convert/ops.py: " + ", ".join(sorted(OPS)),
            fix=(f"convert a float (or fp16-weight) version of {model_name} instead" if feature else
                 f"add a builder for {op_name} to OPS in py/moodcam_tools/convert/ops.py "
                 "and a parity test against the TFLite interpreter"))


# Fused activation functions (schema.fbs ActivationFunctionType).
def _activation(x, code: int, ctx, op):
    if code == 0:
        return x
    if code == 1:
        return tf.nn.relu(x)
    if code == 2:
        return tf.clip_by_value(x, -1.0, 1.0)
    if code == 3:
        return tf.nn.relu6(x)
    if code == 4:
        return tf.tanh(x)
    raise UnsupportedOpError(f"{op.op_name} with fused activation {code}", ctx.model_name)


def _padding(code: int, ctx, op) -> str:
    if code == 0:
        return "SAME"
    if code == 1:
        return "VALID"
    raise UnsupportedOpError(f"{op.op_name} with padding {code}", ctx.model_name)


def _bias(ctx, op, index: int):
    if len(op.inputs) > index and op.inputs[index] >= 0:
        return ctx.const_tensor(op.inputs[index])
    return None


def conv_2d(ctx, op):
    o = op.options
    w = ctx.const_array(op.inputs[1], op).astype(np.float32)          # OHWI
    if o.get("dilationHFactor", 1) != 1 and max(o["strideH"], o["strideW"]) != 1:
        raise UnsupportedOpError("CONV_2D with both dilation and stride", ctx.model_name)
    y = tf.nn.conv2d(ctx.value(op.inputs[0]), ctx.make_const(w.transpose(1, 2, 3, 0), op.inputs[1]),
                     strides=[1, o["strideH"], o["strideW"], 1], padding=_padding(o["padding"], ctx, op),
                     dilations=[1, o.get("dilationHFactor", 1), o.get("dilationWFactor", 1), 1])
    b = _bias(ctx, op, 2)
    if b is not None:
        y = tf.nn.bias_add(y, b)
    return [_activation(y, o.get("fusedActivationFunction", 0), ctx, op)]


def depthwise_conv_2d(ctx, op):
    o = op.options
    w = ctx.const_array(op.inputs[1], op).astype(np.float32)          # 1, H, W, C*M
    x = ctx.value(op.inputs[0])
    channels = int(x.shape[-1])
    _, kh, kw, cm = w.shape
    mult = cm // channels
    w = w.reshape(kh, kw, channels, mult)
    y = tf.nn.depthwise_conv2d(x, ctx.make_const(w, op.inputs[1]),
                               strides=[1, o["strideH"], o["strideW"], 1],
                               padding=_padding(o["padding"], ctx, op),
                               dilations=[o.get("dilationHFactor", 1), o.get("dilationWFactor", 1)])
    b = _bias(ctx, op, 2)
    if b is not None:
        y = tf.nn.bias_add(y, b)
    return [_activation(y, o.get("fusedActivationFunction", 0), ctx, op)]


def fully_connected(ctx, op):
    o = op.options
    if o.get("weightsFormat", 0) != 0:
        raise UnsupportedOpError("FULLY_CONNECTED with shuffled weights", ctx.model_name)
    w = ctx.const_array(op.inputs[1], op).astype(np.float32)          # out, in
    x = ctx.value(op.inputs[0])
    if not o.get("keepNumDims", False):
        x = tf.reshape(x, [-1, w.shape[1]])
    y = tf.matmul(x, ctx.make_const(w.T.copy(), op.inputs[1]))
    b = _bias(ctx, op, 2)
    if b is not None:
        y = y + b
    return [_activation(y, o.get("fusedActivationFunction", 0), ctx, op)]


def dequantize(ctx, op):
    source = ctx.tensors[op.inputs[0]]
    computed = ctx.values.get(op.inputs[0])
    if isinstance(computed, np.ndarray) and computed.dtype == np.float16:
        return [computed.astype(np.float32)]                            # a densified constant
    if source.data is not None and source.dtype == np.float16:
        return [source.data.astype(np.float32)]                         # stays a constant
    if source.quantized or source.dtype in (np.int8, np.uint8):
        raise UnsupportedOpError("DEQUANTIZE of integer-quantised tensors", ctx.model_name,
                                 f"tensor {source.name!r} is {source.type_name}; only fp16 weights are handled",
                                 feature=True)
    return [tf.cast(ctx.value(op.inputs[0]), tf.float32)]


def densify(ctx, op):
    """DENSIFY of a sparse constant: tflite_reader already densified it (sparse.py); it stays numpy."""
    source = ctx.tensors[op.inputs[0]]
    if source.data is None or source.sparsity is None:
        raise UnsupportedOpError("DENSIFY of a tensor without sparsity parameters", ctx.model_name,
                                 f"tensor {source.name!r}")
    return [source.data]


def resize_bilinear(ctx, op):
    o = op.options
    size = ctx.const_array(op.inputs[1], op).astype(np.int32).reshape(-1).tolist()
    y = tf.raw_ops.ResizeBilinear(images=ctx.value(op.inputs[0]), size=size,
                                  align_corners=bool(o.get("alignCorners", False)),
                                  half_pixel_centers=bool(o.get("halfPixelCenters", False)))
    return [y]


def depth_to_space(ctx, op):
    return [tf.nn.depth_to_space(ctx.value(op.inputs[0]), int(op.options["blockSize"]))]   # DCR, as TFLite


def _binary(fn):
    def build(ctx, op):
        y = fn(ctx.value(op.inputs[0]), ctx.value(op.inputs[1]))
        return [_activation(y, op.options.get("fusedActivationFunction", 0), ctx, op)]
    return build


def _unary(fn):
    def build(ctx, op):
        return [fn(ctx.value(op.inputs[0]))]
    return build


def prelu(ctx, op):
    x = ctx.value(op.inputs[0])
    alpha = ctx.value(op.inputs[1])
    return [tf.maximum(x, 0.0) + alpha * tf.minimum(x, 0.0)]


def pad(ctx, op):
    paddings = ctx.const_array(op.inputs[1], op).astype(np.int32)
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        raise UnsupportedOpError("PADV2 with a constant value", ctx.model_name)
    return [tf.pad(ctx.value(op.inputs[0]), paddings.tolist())]


def _pool(fn):
    def build(ctx, op):
        o = op.options
        y = fn(ctx.value(op.inputs[0]), ksize=[1, o["filterHeight"], o["filterWidth"], 1],
               strides=[1, o["strideH"], o["strideW"], 1], padding=_padding(o["padding"], ctx, op))
        return [_activation(y, o.get("fusedActivationFunction", 0), ctx, op)]
    return build


def reshape(ctx, op):
    if len(op.inputs) > 1 and op.inputs[1] >= 0 and ctx.tensors[op.inputs[1]].data is not None:
        shape = ctx.tensors[op.inputs[1]].data.astype(np.int64).tolist()
    elif op.options.get("newShape"):
        shape = list(op.options["newShape"])
    else:
        shape = list(ctx.tensors[op.outputs[0]].shape)
    return [tf.reshape(ctx.value(op.inputs[0]), shape)]


def concatenation(ctx, op):
    y = tf.concat([ctx.value(i) for i in op.inputs], axis=op.options["axis"])
    return [_activation(y, op.options.get("fusedActivationFunction", 0), ctx, op)]


def softmax(ctx, op):
    beta = op.options.get("beta", 1.0)
    x = ctx.value(op.inputs[0])
    return [tf.nn.softmax(x * beta if beta != 1.0 else x, axis=-1)]


def mean(ctx, op):
    axes = ctx.const_array(op.inputs[1], op).astype(np.int64).reshape(-1).tolist()
    return [tf.reduce_mean(ctx.value(op.inputs[0]), axis=axes, keepdims=bool(op.options.get("keepDims")))]


Builder = Callable[..., list]

OPS: dict[str, Builder] = {
    "ADD": _binary(tf.add),
    "AVERAGE_POOL_2D": _pool(tf.nn.avg_pool2d),
    "CONCATENATION": concatenation,
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "DENSIFY": densify,
    "DEPTH_TO_SPACE": depth_to_space,
    "DEQUANTIZE": dequantize,
    "FULLY_CONNECTED": fully_connected,
    "LOGISTIC": _unary(tf.sigmoid),
    "MAX_POOL_2D": _pool(tf.nn.max_pool2d),
    "MEAN": mean,
    "MUL": _binary(tf.multiply),
    "PAD": pad,
    "PRELU": prelu,
    "RELU": _unary(tf.nn.relu),
    "RELU6": _unary(tf.nn.relu6),
    "RESHAPE": reshape,
    "RESIZE_BILINEAR": resize_bilinear,
    "SOFTMAX": softmax,
    "SUB": _binary(tf.subtract),
    "TANH": _unary(tf.tanh),
}


def builder_for(op_name: str, model_name: str) -> Builder:
    try:
        return OPS[op_name]
    except KeyError:
        raise UnsupportedOpError(op_name, model_name) from None
