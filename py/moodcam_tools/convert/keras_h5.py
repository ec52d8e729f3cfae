"""fer's Keras .hdf5 -> SavedModel: Keras 3 `load_model(compile=False)`, then
an export archive (what `model.export` uses) with a named input and output so
the TF.js signature reads `input` -> `<output_name>`. Batch is dynamic."""
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


def export(model, directory: Path, *, input_name: str, output_name: str) -> Path:
    import keras
    import tensorflow as tf

    shape = (None,) + tuple(int(d) for d in model.inputs[0].shape[1:])
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(x):
        return {output_name: model(x, training=False)}

    archive.add_endpoint(name="serve", fn=serve,
                         input_signature=[tf.TensorSpec(shape, tf.float32, name=input_name)])
    archive.write_out(str(directory), verbose=False)
    return directory


def predict(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x.astype(np.float32), batch_size=32, verbose=0))
