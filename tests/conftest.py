"""Test-suite wide settings.

Tiers (all run by `python3 build.py test`):
  1. tests/core, tests/models (fast parts): CPython, no browser.
  2. tests/pyodide: the same core tests inside Pyodide (pytest-pyodide, Debian
     Chromium headless, `--runtime=chrome --dist-dir=<test dist>`).
  3. tests/e2e: the served page in Chromium with a fake camera (Playwright).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_RESULTS = REPO / "test-results"

# pytest-pyodide drives Chromium through Selenium; keep Selenium Manager off the network.
os.environ.setdefault("SE_CHROMEDRIVER", "/usr/bin/chromedriver")
# tensorflowjs imports tensorflow_decision_forests, whose welcome banner imports
# IPython whenever stdout is not a terminal (as under pytest's capture).
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_configure(config: pytest.Config) -> None:
    TEST_RESULTS.mkdir(exist_ok=True)
    try:
        from pytest_pyodide import get_global_config
    except ImportError:
        return
    from tests.support.browser import BASE_FLAGS

    # set_flags replaces the list, so BASE_FLAGS keeps --js-flags=--expose-gc.
    get_global_config().set_flags("chrome", [*BASE_FLAGS, "--headless=new"])
