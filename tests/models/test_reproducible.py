"""`build.py models` reproduces the committed models/ byte for byte."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.convert

REPO = Path(__file__).resolve().parents[2]


def test_committed_models_equal_a_fresh_build():
    if importlib.util.find_spec("tensorflowjs") is None:
        pytest.skip("needs the convert extra (tensorflowjs)")
    # A subprocess: the build starts its own TFLite-interpreter subprocesses and
    # keeps TensorFlow out of the test process.
    code = ("import sys; sys.path.insert(0, 'py'); from moodcam_tools.convert.cli import main; "
            "sys.exit(main(['--check', '--out', 'models']))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=900, env={**__import__("os").environ, "TF_ENABLE_ONEDNN_OPTS": "0",
                                            "TF_CPP_MIN_LOG_LEVEL": "3"})
    print(proc.stdout[-3000:])
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "byte-identical" in proc.stdout
