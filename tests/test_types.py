"""Type check: mypy over py/moodcam (the package that runs in the browser), py/moodcam_tools
(offline tooling) and bench/, one standard for all three.

Settings live in pyproject.toml ([tool.mypy]): Python 3.12 semantics (Pyodide 0.27),
stubs for `js` and `pyodide` from typings/. This runs in every `build.py test`
(--quick included); alone: `.venv/bin/python -m pytest tests/test_types.py`.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_moodcam_type_checks() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (it is in the test extra: pip install -e .[test])")
    # --python-executable: this interpreter's site-packages hold numpy and its stubs. Without
    # it mypy looks for a python3.12 (python_version in the config) and fails where there is none.
    command = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
               "--python-executable", sys.executable]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.fail(f"mypy reports type errors (exit {result.returncode}):\n{result.stdout}{result.stderr}",
                    pytrace=False)
