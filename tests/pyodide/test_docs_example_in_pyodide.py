"""Tier 2: docs/reuse.md's worked example (docs/examples/mood_log.py) inside Pyodide prints what it prints in CPython.

As a reader would run it in a page: the shipped moodcam wheel installed with micropip, then the
file's text run as is. Its CPython twin, which also checks the page quotes it: tests/site/test_docs_example.py.
"""
from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "mood_log.py"

pytestmark = pytest.mark.browser


def test_docs_example_prints_the_same_log_in_pyodide(selenium, request):
    dist_dir = Path(request.config.getoption("--dist-dir")).resolve()
    wheels = sorted(dist_dir.glob("moodcam-*-py3-none-any.whl"))
    assert wheels, f"no moodcam wheel in {dist_dir}: build it with `build.py site --with-test-wheels`"
    selenium.load_package(["micropip", "numpy"])
    selenium.run_async(f"""
        import micropip
        await micropip.install("{selenium.base_url}/{wheels[-1].name}")
    """)
    source = EXAMPLE.read_text(encoding="utf-8")
    # The file as is (its __main__ block prints to the console too), then its log as the script's value.
    in_pyodide = json.loads(selenium.run(source + "\nimport json\njson.dumps(run())\n"))
    in_cpython = runpy.run_path(str(EXAMPLE), run_name="docs_example")["run"]()
    assert in_pyodide == in_cpython
    assert in_cpython[-2].split("  ")[1].strip() == "No face", in_cpython
