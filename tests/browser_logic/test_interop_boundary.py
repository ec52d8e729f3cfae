"""`js` and `pyodide` are imported in one place: the interop layer (moodcam.browser.interop).

CPython only, no browser: the sources are read with `ast`, so every import counts, at the
top of a module, inside a function, or under `if TYPE_CHECKING`. The rest of the browser
layer asks interop for what it needs (its docstring says how), and the core never touches
JavaScript at all.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "py" / "moodcam"
BROWSER = PACKAGE / "browser"
# interop.py, and a wrappers.py beside it should interop ever pass 500 lines.
INTEROP_LAYER = {"interop.py", "wrappers.py"}
BRIDGE = ("js", "pyodide")


def bridge_imports(source: str) -> list[str]:
    """'line N: import x' for each import of js or pyodide (any submodule) in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"line {node.lineno}: import {name}" for name in names if name.split(".")[0] in BRIDGE]
    return found


def test_the_finder_sees_every_spelling():
    source = ("import js\nimport os, pyodide.ffi\nfrom pyodide.http import pyfetch\nfrom . import js_helpers\n"
              "def f():\n    from js import document\nif False:\n    import jsonschema\n")
    assert bridge_imports(source) == ["line 1: import js", "line 2: import pyodide.ffi",
                                      "line 3: import pyodide.http", "line 6: import js"]


def test_the_interop_layer_exists_and_is_where_js_comes_in():
    assert bridge_imports((BROWSER / "interop.py").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(p for p in BROWSER.glob("*.py") if p.name not in INTEROP_LAYER),
                         ids=lambda p: p.name)
def test_browser_modules_reach_js_only_through_interop(path: Path):
    found = bridge_imports(path.read_text(encoding="utf-8"))
    assert not found, (f"{path.name} imports the JS bridge ({'; '.join(found)}): add a small typed "
                       "function to moodcam.browser.interop and call that instead")


def test_the_core_never_imports_js():
    core = [p for p in PACKAGE.rglob("*.py") if BROWSER not in p.parents]
    assert core
    offenders = {str(p.relative_to(PACKAGE)): found for p in core
                 if (found := bridge_imports(p.read_text(encoding="utf-8")))}
    assert not offenders
