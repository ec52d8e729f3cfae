"""Shared fixtures for the training tests: one synthetic set, one trained run per session."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # TF 2.19 segfaults without it (NOTES.md)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Sized so a CPU training with the command's defaults (60 epochs) reaches AP50 >= 0.9 in a few
# minutes on 2 cores.
N_IMAGES = 200


@pytest.fixture(scope="session")
def synthetic_sets(tmp_path_factory) -> dict[str, Path]:
    """The same synthetic scenes written as VOC, YOLO and CSV: {"voc": dir, "yolo": dir, "csv": dir}."""
    from moodcam_tools.train import synthetic

    root = tmp_path_factory.mktemp("synthetic")
    return synthetic.write_all(synthetic.make_scenes(N_IMAGES, seed=0), root)


@pytest.fixture(scope="session")
def small_sets(tmp_path_factory) -> dict[str, Path]:
    from moodcam_tools.train import synthetic

    root = tmp_path_factory.mktemp("small")
    return synthetic.write_all(synthetic.make_scenes(12, seed=5), root)


@pytest.fixture(scope="session")
def trained_run(synthetic_sets, tmp_path_factory):
    """Train once through the CLI on the YOLO copy; returns (run dir, eval.json, wall seconds).

    The backbone starts from MediaPipe's BlazeFace at 128 px (the pinned mediapipe wheel in the
    download cache, fetched once like `build.py models` does): the small, quick network whose
    export the app tests read; every other setting is the command's default. From scratch 40
    epochs reached only AP50 ~0.5.
    """
    from moodcam_tools.train.cli import train_main

    run = tmp_path_factory.mktemp("run") / "shapes"
    t0 = time.monotonic()
    code = train_main(["--data", str(synthetic_sets["yolo"]), "--format", "yolo", "--name", "shapes",
                       "--out", str(run), "--init", "mediapipe", "--input-size", "128", "--quiet",
                       "--no-export"])
    seconds = time.monotonic() - t0
    assert code == 0
    return run, json.loads((run / "eval.json").read_text()), seconds
