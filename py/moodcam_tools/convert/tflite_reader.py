"""Read a TFLite flatbuffer into plain Python: tensors (with constant data,
fp16 included), operators (builtin name + options as a dict), graph inputs and
outputs. Uses TensorFlow's own generated schema
(`tensorflow.lite.python.schema_py_generated`), so it reads what TF writes.

The file's identity is checked before parsing (flatbuffer identifier `TFL3`,
sane root offset), so a file that is not a TFLite model, or a truncated one,
stops with a BuildError rather than a crash deep inside flatbuffers.
"""
from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np

from ..errors import BuildError

TFLITE_IDENTIFIER = b"TFL3"

# TFLite TensorType enum -> numpy dtype (schema.fbs). Missing entries are
# reported as unsupported by name.
_TENSOR_TYPES = {
    0: ("FLOAT32", np.float32),
    1: ("FLOAT16", np.float16),
    2: ("INT32", np.int32),
    3: ("UINT8", np.uint8),
    4: ("INT64", np.int64),
    6: ("BOOL", np.bool_),
    7: ("INT16", np.int16),
    9: ("INT8", np.int8),
    10: ("FLOAT64", np.float64),
}


@dataclasses.dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    type_name: str
    dtype: np.dtype | None
    data: np.ndarray | None          # constant contents, None for activations
    quantized: bool                  # carries int8/uint8 quantisation parameters
    sparsity: object = None          # sparse.Sparsity when stored sparse (data is then densified)


@dataclasses.dataclass
class Operator:
    index: int
    op_name: str                     # builtin name, e.g. "CONV_2D", or "CUSTOM:<code>"
    inputs: tuple[int, ...]          # -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: dict


@dataclasses.dataclass
class TFLiteGraph:
    model_name: str                  # for messages: the file name
    description: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def op_histogram(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.operators:
            counts[op.op_name] = counts.get(op.op_name, 0) + 1
        return dict(sorted(counts.items()))


def check_tflite_bytes(data: bytes, name: str) -> None:
    """Cheap structural checks that need no TensorFlow."""
    if len(data) < 16 or data[4:8] != TFLITE_IDENTIFIER:
        raise BuildError(f"{name} is not a TFLite model (no 'TFL3' flatbuffer identifier)",
                         expected="a .tflite flatbuffer",
                         fix="check the source path and delete the cached download so it is fetched again")
    (root,) = struct.unpack_from("<I", data, 0)
    if root + 4 > len(data):
        raise BuildError(f"{name} is truncated or corrupt (flatbuffer root points past the end)",
                         fix="delete the cached download so it is fetched again")


def _schema():
    from tensorflow.lite.python import schema_py_generated as schema  # heavy: imports TF
    return schema


def _enum_names(cls) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


def _options_dict(options) -> dict:
    if options is None:
        return {}
    out = {}
    for key, value in vars(options).items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        out[key] = value
    return out


def read_tflite(path: Path | str, *, name: str | None = None) -> TFLiteGraph:
    path = Path(path)
    name = name or path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise BuildError(f"cannot read {path}: {error.strerror}") from None
    check_tflite_bytes(data, name)
    schema = _schema()
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    except Exception as error:  # flatbuffers raises assorted errors on garbage
        raise BuildError(f"{name} could not be parsed as a TFLite flatbuffer ({type(error).__name__}: {error})",
                         fix="delete the cached download so it is fetched again") from None
    if not model.subgraphs:
        raise BuildError(f"{name} holds no subgraph")
    if len(model.subgraphs) != 1:
        raise BuildError(f"{name} has {len(model.subgraphs)} subgraphs; the converter handles one",
                         fix="extend moodcam_tools.convert.rebuild for control flow")
    op_names = _enum_names(schema.BuiltinOperator)
    graph = model.subgraphs[0]

    tensors = []
    for index, t in enumerate(graph.tensors):
        type_name, dtype = _TENSOR_TYPES.get(t.type, (f"TYPE_{t.type}", None))
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
        buffer = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
        raw = None
        if buffer is not None:
            if buffer.data is not None and len(buffer.data):
                raw = np.asarray(buffer.data, dtype=np.uint8).tobytes()
            elif getattr(buffer, "offset", 0) > 1 and getattr(buffer, "size", 0):
                raw = data[buffer.offset: buffer.offset + buffer.size]
        array = None
        sparsity = None
        if raw is not None and t.sparsity is not None:
            from . import sparse
            sparsity = sparse.from_schema(t.sparsity)
            tname = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
            if dtype is None or len(raw) % np.dtype(dtype).itemsize:
                raise BuildError(f"{name}: sparse constant tensor {tname!r} of {type_name} holds {len(raw)} bytes")
            array = sparse.densify(np.frombuffer(raw, dtype=dtype), shape, sparsity, name=tname)
        elif raw is not None:
            if dtype is None:
                array = np.frombuffer(raw, dtype=np.uint8)
            else:
                count = int(np.prod(shape)) if shape else 1
                if len(raw) != count * np.dtype(dtype).itemsize:
                    raise BuildError(f"{name}: constant tensor {t.name!r} holds {len(raw)} bytes, "
                                     f"shape {shape} of {type_name} needs {count * np.dtype(dtype).itemsize}")
                array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        q = t.quantization
        quantized = bool(q is not None and q.scale is not None and len(q.scale))
        tname = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
        tensors.append(Tensor(index, tname, shape, type_name, None if dtype is None else np.dtype(dtype),
                              array, quantized, sparsity))

    operators = []
    for index, op in enumerate(graph.operators):
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        op_name = op_names.get(builtin, f"BUILTIN_{builtin}")
        if op_name == "CUSTOM":
            custom = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
            op_name = f"CUSTOM:{custom}"
        operators.append(Operator(index, op_name,
                                  tuple(int(i) for i in (op.inputs if op.inputs is not None else ())),
                                  tuple(int(i) for i in (op.outputs if op.outputs is not None else ())),
                                  _options_dict(op.builtinOptions)))
    description = model.description.decode(errors="replace") if isinstance(model.description, bytes) \
        else str(model.description or "")
    return TFLiteGraph(name, description, tensors, operators,
                       tuple(int(i) for i in graph.inputs), tuple(int(i) for i in graph.outputs))
