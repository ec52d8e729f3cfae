"""fer's Keras .hdf5 -> SavedModel: Keras 3 `load_model(compile=False)`, then
an export archive (what `model.export` uses) with a named input and named outputs so
the TF.js signature reads `input` -> `<output name>`s. Batch is dynamic.

`with_features` adds a second output to the same weights: the global average of the
feature map that feeds the final class convolution (mini-Xception: `add_4`, [N, 4, 4, 128]
-> [N, 128]), so one run gives the probabilities and the penultimate features."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import BuildError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def check_hdf5_bytes(data: bytes, name: str) -> None:
    if not data.startswith(HDF5_SIGNATURE):
        raise BuildError(f"{name} is not an HDF5 file (no HDF5 signature)",
                         expected="a Keras .hdf5 model",
                         fix="check the source path and delete the cached download so it is fetched again")


def load(path: Path, name: str | None = None):
    name = name or Path(path).name
    check_hdf5_bytes(Path(path).read_bytes()[:8], name)
    import keras
    try:
        return keras.models.load_model(str(path), compile=False)
    except Exception as error:
        raise BuildError(f"{name} could not be loaded as a Keras model ({type(error).__name__}: {error})",
                         fix="delete the cached download so it is fetched again") from None


def with_features(model, layer_name: str, *, probabilities: str, features: str):
    """A model with outputs {probabilities: the original output, features: GAP(layer_name)}, same weights.

    The layer must be the input of the model's last convolution (the class convolution): its
    pooled map is what the classifier itself reads, one step before the class scores.
    """
    import keras

    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        layer = None
    if layer is None or not convs or convs[-1].input is not layer.output:
        raise BuildError(f"{model.name}: layer {layer_name!r} is not the input of the last convolution "
                         f"({convs[-1].name if convs else 'none found'})",
                         fix="name the layer that feeds the class convolution in specs.py (features_layer)")
    pooled = keras.layers.GlobalAveragePooling2D(name="features")(layer.output)     # [N, C]
    return keras.Model(model.inputs[0], {probabilities: model.outputs[0], features: pooled}, name=model.name)


def export(model, directory: Path, *, input_name: str, output_name: str | None = None) -> Path:
    """Write a SavedModel; a one-output model's output is named ``output_name``, a dict-output
    model keeps its own keys."""
    import keras
    import tensorflow as tf

    shape = (None,) + tuple(int(d) for d in model.inputs[0].shape[1:])
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(x):
        out = model(x, training=False)
        return dict(out) if isinstance(out, dict) else {output_name: out}

    archive.add_endpoint(name="serve", fn=serve,
                         input_signature=[tf.TensorSpec(shape, tf.float32, name=input_name)])
    archive.write_out(str(directory), verbose=False)
    return directory


def predict(model, x: np.ndarray):
    """One output: an array; a dict-output model: {name: array}."""
    out = model.predict(x.astype(np.float32), batch_size=32, verbose=0)
    if isinstance(out, dict):
        return {k: np.asarray(v) for k, v in out.items()}
    return np.asarray(out)
