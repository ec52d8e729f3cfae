"""docs/reuse.md's worked example cannot rot: the file runs, prints the log the page quotes, and is quoted whole.

The example (docs/examples/mood_log.py) is run as a script in a fresh CPython, as a reader would run
it. Its twin inside Pyodide is tests/pyodide/test_docs_example_in_pyodide.py. (Not in tests/core:
that folder is copied into Pyodide without docs/, and must pass there test for test.)
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "mood_log.py"
PAGE = REPO / "docs" / "reuse.md"
FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


def fenced_blocks(language: str) -> list[str]:
    return [body for lang, body in FENCED.findall(PAGE.read_text(encoding="utf-8")) if lang == language]


def run_example() -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "py"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, f"{EXAMPLE.name} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_example_prints_the_log_the_page_quotes() -> None:
    out = run_example()
    assert out in fenced_blocks("text"), (f"docs/reuse.md quotes another output; the example now prints:\n{out}"
                                          "(update the ```text block, and the words around it if the story changed)")
    lines = out.splitlines()
    # The story the page tells around the block, checked on its own in case both were rewritten together.
    assert [line.split("  ")[1].strip() for line in lines[:-1]] == [
        "Starting", "Observing", "Happy", "Can't tell, maybe neutral, 40 %", "Surprised", "No face"]
    assert lines[2].startswith(" 1.00 s") and lines[3].startswith(" 4.00 s"), lines
    assert lines[-1].startswith("shown for: ")


def test_the_page_quotes_the_example_whole() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") in fenced_blocks("python"), (
        "docs/reuse.md's ```python block differs from docs/examples/mood_log.py: paste the file in again")
