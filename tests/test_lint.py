"""Lint: ruff's pyflakes and syntax rules over everything Python in the repository.

Rules and line length live in pyproject.toml ([tool.ruff]). This runs in every
`build.py test` (--quick included), beside tests/test_types.py; alone:
`.venv/bin/python -m pytest tests/test_lint.py`. `ruff check --fix` repairs most findings.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKED = ("py", "bench", "tests", "build.py")


def test_ruff_is_clean() -> None:
    pytest.importorskip("ruff", reason="ruff is not installed (it is in the test extra: pip install -e .[test])")
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *CHECKED]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.fail(f"ruff reports problems (exit {result.returncode}); `ruff check --fix` repairs most:\n"
                    f"{result.stdout}{result.stderr}", pytrace=False)
