"""moodcam.browser.preload: the standard-library modules a snapshot should hold imported."""
from __future__ import annotations

import importlib
import types

from moodcam.browser.preload import BRIDGE, stdlib_in_use, stdlib_modules


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
