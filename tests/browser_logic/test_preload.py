"""moodcam.browser.preload: the standard-library and moodcam modules a snapshot should hold imported."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types
from pathlib import Path

from moodcam.browser.preload import BRIDGE, app_modules_in_use, stdlib_in_use, stdlib_modules

PY = Path(__file__).resolve().parents[2] / "py"


def module(name: str, path: str | None) -> types.ModuleType:
    m = types.ModuleType(name)
    if path is not None:
        m.__file__ = path
    return m


def test_only_modules_from_the_standard_library_are_listed_sorted():
    zip_root = "/lib/python312.zip"
    modules = {
        "json.decoder": module("json.decoder", f"{zip_root}/json/decoder.py"),
        "json": module("json", f"{zip_root}/json/__init__.py"),
        "numpy": module("numpy", "/lib/python3.12/site-packages/numpy/__init__.py"),
        "moodcam.pipeline": module("moodcam.pipeline", "/lib/python3.12/site-packages/moodcam/pipeline.py"),
        "_json": module("_json", None),                        # built in: comes with the interpreter
        "pyodide.http": module("pyodide.http", f"{zip_root}/pyodide/http.py"),   # the JS bridge
        "_pyodide._base": module("_pyodide._base", f"{zip_root}/_pyodide/_base.py"),
        "__main__": module("__main__", f"{zip_root}/__main__.py"),
        "gone": None,
        "tarfile": module("tarfile", f"{zip_root}/tarfile.py"),
        "ctypes": module("ctypes", f"{zip_root}/ctypes/__init__.py"),           # a libffi callback
        "ctypes._endian": module("ctypes._endian", f"{zip_root}/ctypes/_endian.py"),
    }
    assert stdlib_modules(modules, [zip_root]) == ["json", "json.decoder", "tarfile"]
    assert stdlib_modules(modules, [zip_root + "/"]) == ["json", "json.decoder", "tarfile"]


def test_pyodide_keeps_the_standard_library_in_a_folder_and_a_zip_and_site_packages_is_not_part():
    modules = {
        "os": module("os", "/lib/python3.12/os.py"),
        "tarfile": module("tarfile", "/lib/python312.zip/tarfile.py"),
        "numpy": module("numpy", "/lib/python3.12/site-packages/numpy/__init__.py"),
    }
    roots = ["/lib/python3.12", "/lib/python312.zip"]
    assert stdlib_modules(modules, roots, ["/lib/python3.12/site-packages"]) == ["os", "tarfile"]


def test_a_folder_with_the_same_prefix_is_not_the_standard_library():
    modules = {"x": module("x", "/lib/python312.zip.bak/x.py")}
    assert stdlib_modules(modules, ["/lib/python312.zip"]) == []


def test_in_cpython_the_list_names_importable_standard_modules_and_no_bridge():
    importlib.import_module("json")
    names = stdlib_in_use()
    assert "json" in names and "os" in names
    assert not any(n.split(".")[0] in BRIDGE for n in names)
    assert not any(n.startswith(("moodcam", "numpy", "pytest")) for n in names)


def test_app_modules_in_use_lists_moodcam_and_nothing_else():
    modules = {"moodcam": None, "moodcam.browser.messages": None, "moodcamera": None, "numpy": None}
    assert app_modules_in_use(modules) == ["moodcam", "moodcam.browser.messages"]


def in_fresh_python(code: str) -> dict:
    """Run `code` in a new interpreter (this one has imported moodcam and numpy already) and
    return the JSON it prints last."""
    done = subprocess.run([sys.executable, "-c", code], cwd=PY, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_app_modules_keeps_the_numpy_free_modules_and_rolls_back_the_rest():
    # moodcam.mood's __init__ imports its voting module, which imports numpy: the attempt at
    # moodcam.mood.state fails half way, after moodcam.mood.labels and .state were imported.
    result = in_fresh_python("""
import json, sys
from moodcam.browser.preload import import_app_modules
names = ["moodcam.browser.messages", "moodcam.mood.state", "moodcam.pipeline", "moodcam.browser.interop"]
done = import_app_modules(names)
print(json.dumps({"imported": done, "modules": sorted(m for m in sys.modules if m.startswith(("moodcam", "numpy", "js")))}))
""")
    assert result["imported"] == ["moodcam.browser.messages"]
    modules = result["modules"]
    assert "moodcam.browser.messages" in modules and "moodcam.browser.failures" in modules
    for rolled_back in ("moodcam.mood", "moodcam.mood.labels", "moodcam.mood.state", "moodcam.pipeline",
                        "moodcam.browser.interop", "numpy"):
        assert rolled_back not in modules, (rolled_back, modules)


def test_import_app_modules_gives_back_what_it_blocked():
    result = in_fresh_python("""
import json, sys
import numpy
from moodcam.browser.preload import import_app_modules
import_app_modules(["moodcam.pipeline"])
print(json.dumps({"numpy": sys.modules.get("numpy") is numpy, "js": "js" in sys.modules}))
""")
    assert result == {"numpy": True, "js": False}
