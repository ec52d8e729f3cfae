"""Offline model conversion for `build.py models` (needs the `convert` extra).

Pipeline per model: locate and verify the source file inside its pinned PyPI
wheel (`sources`), read it (`tflite_reader` / `keras_h5`), rebuild a TF graph
from an op table (`ops`, `rebuild`), save a SavedModel, convert it with the
tensorflowjs converter (`tfjs_export`), then write `models/manifest.json`
(`manifest`). `cli.main` drives it; outputs land in a temporary folder and are
moved into place only after every model converted and verified.

Nothing here imports TensorFlow at module import time except `ops`, `rebuild`,
`keras_h5` and `tfjs_export`, so source checks run (and fail) fast.
"""
