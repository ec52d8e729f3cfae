"""Run as a script (TensorFlow in its own process), not collected by pytest.

    python ops_model_script.py make DIR     -> DIR/extra_ops.tflite, DIR/sin.tflite, DIR/input.npz
    python ops_model_script.py rebuild DIR  -> DIR/rebuilt.npz (rebuilt SavedModel outputs)
    python ops_model_script.py errors DIR   -> prints the UnsupportedOpError texts
    python ops_model_script.py read FILE    -> parses FILE, prints the op count or the BuildError
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "py"))

import numpy as np  # noqa: E402


def make(out: Path) -> None:
    import tensorflow as tf
    rng = np.random.default_rng(3)
    w1 = rng.normal(0, 0.3, (3, 3, 3, 8)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (8 * 4 * 4, 10)).astype(np.float32)
    b2 = rng.normal(0, 0.1, (10,)).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, (8,)).astype(np.float32)

    @tf.function(input_signature=[tf.TensorSpec([1, 16, 16, 3], tf.float32, name="x")])
    def extra_ops(x):
        y = tf.nn.relu6(tf.nn.conv2d(x, w1, strides=1, padding="SAME"))
        y = tf.nn.avg_pool2d(y, 2, 2, "VALID")                     # AVERAGE_POOL_2D
        y = tf.sigmoid(y) * scale - tf.tanh(y)                     # LOGISTIC, MUL, TANH, SUB
        m = tf.reduce_mean(y, axis=[1, 2])                         # MEAN
        y = tf.nn.max_pool2d(y, 2, 2, "SAME")
        logits = tf.matmul(tf.reshape(y, [1, -1]), w2) + b2        # FULLY_CONNECTED
        return {"probs": tf.nn.softmax(logits), "mean": m}         # SOFTMAX

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")])
    def sin(x):
        return {"y": tf.sin(x) + 1.0}

    for name, fn, fp16 in [("extra_ops", extra_ops, True), ("sin", sin, False)]:
        conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
        if fp16:
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.target_spec.supported_types = [tf.float16]
        (out / f"{name}.tflite").write_bytes(conv.convert())
    np.savez(out / "input.npz", x=rng.uniform(-1, 1, (3, 16, 16, 3)).astype(np.float32))


def rebuild(out: Path) -> None:
    from moodcam_tools.convert import rebuild as rb
    from moodcam_tools.convert.tflite_reader import read_tflite
    graph = read_tflite(out / "extra_ops.tflite")
    names = {graph.tensors[i].name: graph.tensors[i].name.replace(":", "_") for i in graph.outputs}
    fn = rb.build_function(graph, input_name="x", output_names=names)
    rb.save(fn, out / "sm")
    with np.load(out / "input.npz") as data:
        got = rb.run_saved_model(out / "sm", data["x"])
    np.savez(out / "rebuilt.npz", **{k: got[v] for k, v in names.items()},
             ops=np.array(sorted(graph.op_histogram())))


def errors(out: Path) -> None:
    from moodcam_tools.convert import rebuild as rb
    from moodcam_tools.convert.ops import UnsupportedOpError
    from moodcam_tools.convert.tflite_reader import read_tflite
    for path in sorted(out.glob("*.tflite")):
        graph = read_tflite(path)
        try:
            rb.build_function(graph, input_name="x",
                              output_names={graph.tensors[i].name: f"o{k}" for k, i in enumerate(graph.outputs)})
            print(f"OK {path.name}")
        except UnsupportedOpError as error:
            print(f"UNSUPPORTED {path.name} op={error.op_name}\n{error.render()}")


def read(path: Path) -> None:
    from moodcam_tools.convert.tflite_reader import read_tflite
    from moodcam_tools.errors import BuildError
    try:
        graph = read_tflite(path)
        print(f"PARSED {len(graph.operators)} ops")
    except BuildError as error:
        print(error.render())


if __name__ == "__main__":
    {"make": make, "rebuild": rebuild, "errors": errors, "read": read}[sys.argv[1]](Path(sys.argv[2]))
