"""Reference outputs from the original models, one framework per process.

TensorFlow and a TFLite interpreter crash when loaded into one process (see
../shared/NOTES.md), so callers run this module as a subprocess:

    python -m moodcam_tools.convert.reference tflite MODEL.tflite IN.npz OUT.npz
    python -m moodcam_tools.convert.reference keras  MODEL.hdf5   IN.npz OUT.npz
    python -m moodcam_tools.convert.reference saved_model DIR     IN.npz OUT.npz
    python -m moodcam_tools.convert.reference densify MODEL.tflite IN.npz OUT.npz

IN.npz holds `x` (a batch, N x H x W x C float32); OUT.npz gets one array per
output name (batched along axis 0); `densify` gets, keyed by tensor index, the
output of every DENSIFY op after one run on the first sample (the interpreter
keeps intermediate tensors with `experimental_preserve_all_tensors=True`). For TFLite the interpreter is
`ai_edge_litert` when installed, else `tf.lite.Interpreter`.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ENV = {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1",
       "PYTHONHASHSEED": "0"}


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore
        return Interpreter
    except ImportError:
        import tensorflow as tf
        return tf.lite.Interpreter


def run_tflite(model: str, x: np.ndarray) -> dict[str, np.ndarray]:
    interpreter = _interpreter_class()(model_path=model)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    outs = interpreter.get_output_details()
    collected: dict[str, list] = {o["name"]: [] for o in outs}
    for sample in x:
        interpreter.set_tensor(inp["index"], sample[None].astype(np.float32))
        interpreter.invoke()
        for o in outs:
            collected[o["name"]].append(interpreter.get_tensor(o["index"]).copy())
    return {k: np.concatenate(v) for k, v in collected.items()}


def run_densify(model: str, x: np.ndarray) -> dict[str, np.ndarray]:
    # Without the default delegates: XNNPACK takes DENSIFY + DEQUANTIZE + CONV over and densifies
    # the weights itself, so the DENSIFY kernel never runs and its output tensor stays zero.
    Interpreter = _interpreter_class()
    module = sys.modules[Interpreter.__module__]
    resolver = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interpreter = Interpreter(model_path=model, experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    interpreter.set_tensor(inp["index"], x[:1].astype(np.float32))
    interpreter.invoke()
    out = {}
    for op in interpreter._get_ops_details():
        if op["op_name"] == "DENSIFY":
            (index,) = [int(i) for i in op["outputs"]]
            out[str(index)] = interpreter.get_tensor(index).copy()
    return out


def run_keras(model: str, x: np.ndarray, features_layer: str = "add_4") -> dict[str, np.ndarray]:
    """The original model's output, and (when it has the layer) that layer's map averaged in numpy:
    the reference for the converted graph's `features` output, computed without the converter's code."""
    import keras
    net = keras.models.load_model(model, compile=False)
    out = {"output": np.asarray(net.predict(x.astype(np.float32), batch_size=32, verbose=0))}
    if any(layer.name == features_layer for layer in net.layers):
        inner = keras.Model(net.inputs[0], net.get_layer(features_layer).output)
        feature_map = np.asarray(inner.predict(x.astype(np.float32), batch_size=32, verbose=0))   # [N, h, w, C]
        out["features"] = feature_map.astype(np.float64).mean(axis=(1, 2)).astype(np.float32)      # [N, C]
    return out


def run_saved_model(directory: str, x: np.ndarray) -> dict[str, np.ndarray]:
    from .rebuild import run_saved_model as run
    return run(Path(directory), x)


RUNNERS = {"tflite": run_tflite, "densify": run_densify, "keras": run_keras, "saved_model": run_saved_model}


def run_in_subprocess(kind: str, model: Path, x: np.ndarray, workdir: Path,
                      python: str | None = None, timeout: float = 600) -> dict[str, np.ndarray]:
    """Run one reference in a fresh interpreter process; return its outputs."""
    from ..errors import BuildError
    workdir.mkdir(parents=True, exist_ok=True)
    tag = f"{kind}-{Path(model).stem}"
    inp, out = workdir / f"{tag}-in.npz", workdir / f"{tag}-out.npz"
    np.savez(inp, x=x.astype(np.float32))
    src = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, **ENV, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([python or sys.executable, "-m", "moodcam_tools.convert.reference",
                           kind, str(model), str(inp), str(out)],
                          env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not out.exists():
        raise BuildError(f"the {kind} reference run for {Path(model).name} failed "
                         f"(exit {proc.returncode}): {proc.stderr.strip()[-2000:]}",
                         fix="run the command by hand to see the full error")
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


def main(argv: list[str]) -> int:
    kind, model, inp, out = argv
    with np.load(inp) as data:
        x = data["x"]
    # Typed Any: numpy 2.4's stub declares `allow_pickle: bool` beside savez's **arrays, so a
    # dict of arrays spread into it reads to mypy as feeding that flag.
    result: dict[str, Any] = RUNNERS[kind](model, x)
    np.savez(out, **result)
    return 0


if __name__ == "__main__":
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    sys.exit(main(sys.argv[1:]))
