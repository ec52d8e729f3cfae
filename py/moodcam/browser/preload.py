"""Which modules a return visit's interpreter snapshot should hold already imported.

Pure (no JS): app/engine.js asks `stdlib_in_use()` once the app has run for a while and hands the
names to the snapshot maker (app/snapshot.js), which imports them in a bare interpreter before it
takes the snapshot. A return visit then restores them with the interpreter instead of reading and
unmarshalling them from python_stdlib.zip on its critical path: numpy's (pickle, datetime,
platform) and moodcam's (dataclasses, json, hashlib); before the engine installed numpy itself,
loadPackage's own helpers too (importlib.metadata, email, tarfile). Measured in Chromium on 2
cores (2026-12-02, with loadPackage): importing them costs 0.5-0.65 s in a bare interpreter, and
takes about 0.4 s off numpy's load + import and moodcam's import.

Standard-library modules qualify by where they were loaded from (`stdlib_in_use`). moodcam's own
modules qualify when they import neither numpy nor the bridge (`import_app_modules`, run by the
maker with both blocked): numpy's shared libraries are instances outside the wasm memory a
snapshot keeps, and Pyodide's bridge holds JavaScript references, which a snapshot cannot
(loadPyodide's `_makeSnapshot` refuses them). moodcam's numpy-free modules are most of its
import time: the messages, failures, settings and status modules define about 40 dataclasses
and a dozen enums, whose methods Python compiles as they are defined. A snapshot holding them is
tied to the wheel it was made from: its Cache Storage name holds the wheel's sha256 (app/engine.js,
snapshotPlace), and the engine unpacks that same wheel after the restore, so the restored
modules and the files beside them always agree.
"""
from __future__ import annotations

import sys
from types import ModuleType
from typing import Any, Iterable, Mapping

# Top-level names never preloaded: Pyodide's bridge to JavaScript and what talks through it.
BRIDGE = frozenset({"js", "pyodide", "_pyodide", "pyodide_js", "micropip"})
# What a moodcam module in the snapshot must not import: the bridge, and numpy (see above).
BLOCKED_FOR_APP = BRIDGE | {"numpy"}
APP_PACKAGE = "moodcam"
# Imports that change more than the wasm memory: ctypes makes a libffi callback as it is
# imported, an entry in the wasm function table that a memory snapshot would not carry.
OUTSIDE_MEMORY = frozenset({"ctypes"})


def stdlib_modules(modules: Mapping[str, ModuleType | None], stdlib_roots: Iterable[str],
                   site_packages: Iterable[str] = ()) -> list[str]:
    """The names in `modules` loaded from one of `stdlib_roots` (folders or zip paths), sorted.

    Pyodide keeps the standard library in two places (a few modules unpacked in /lib/python3.12,
    the rest in /lib/python312.zip); site-packages sits inside the first and is not standard.
    A package's submodules come after the package; `__main__`, built-in modules (no file: they
    come with the interpreter), the bridge (BRIDGE) and OUTSIDE_MEMORY are left out.
    """
    roots = tuple(r.rstrip("/") + "/" for r in stdlib_roots)
    excluded = tuple(r.rstrip("/") + "/" for r in site_packages)
    names = []
    for name, module in modules.items():
        path = getattr(module, "__file__", None) if module is not None else None
        top = name.split(".")[0]
        if not path or name == "__main__" or top in BRIDGE or top in OUTSIDE_MEMORY:
            continue
        path = str(path)
        if path.startswith(roots) and not path.startswith(excluded):
            names.append(name)
    return sorted(names)


def stdlib_in_use() -> list[str]:
    """The standard-library modules this interpreter has imported."""
    import sysconfig

    paths = sysconfig.get_paths()
    roots = {paths["stdlib"], paths["platstdlib"]} | {p for p in sys.path if p.endswith(".zip")}
    return stdlib_modules(dict(sys.modules), roots, {paths["purelib"], paths["platlib"]})


def app_modules_in_use(modules: Mapping[str, ModuleType | None] | None = None) -> list[str]:
    """moodcam's modules this interpreter has imported, sorted: the maker tries each."""
    names = sys.modules if modules is None else modules
    return sorted(n for n in names if n == APP_PACKAGE or n.startswith(APP_PACKAGE + "."))


def import_app_modules(names: Iterable[str]) -> list[str]:
    """Import each of moodcam's `names` with numpy and the bridge blocked; return those imported.

    Run by the snapshot maker (app/snapshot.js) once it has unpacked the wheel. A name whose import
    fails (it reaches numpy or the bridge) is rolled back whole: every module its attempt added
    goes again, so no half-imported package (a package whose `__init__` failed half way leaves
    the submodules it had imported in sys.modules) is restored on the next visit.
    """
    blocked = {n for n in sys.modules if n.split(".")[0] in BLOCKED_FOR_APP} | BLOCKED_FOR_APP
    saved = {n: sys.modules.get(n) for n in blocked}
    imported = []
    modules: dict[str, Any] = sys.modules     # typeshed does not allow None, the import system does
    try:
        for name in blocked:
            modules[name] = None              # `import numpy` / `import js` now raise ImportError
        for name in names:
            before = set(sys.modules)
            try:
                __import__(name)
                imported.append(name)
            except Exception:
                for added in set(sys.modules) - before:
                    del sys.modules[added]
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return imported
