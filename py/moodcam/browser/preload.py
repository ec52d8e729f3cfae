"""Which standard-library modules a return visit's interpreter snapshot should hold already imported.

Pure (no JS): app/engine.js asks `stdlib_in_use()` once the app has run for a while and hands the
names to the snapshot maker (app/snapshot.js), which imports them in a bare interpreter before it
takes the snapshot. A return visit then restores them with the interpreter instead of reading and
unmarshalling them from python_stdlib.zip on its critical path: loadPackage's own helpers
(importlib.metadata, email, tarfile), numpy's (pickle, datetime, platform) and moodcam's
(dataclasses, json, hashlib). Measured in Chromium on 2 cores: importing them costs 0.5-0.65 s
in a bare interpreter, and takes about 0.4 s off numpy's load + import and moodcam's import.

Only pure standard-library modules qualify: a module of a package (numpy, moodcam) needs its
files, which a snapshot does not carry, and Pyodide's own modules hold JavaScript references,
which a snapshot cannot (loadPyodide's `_makeSnapshot` refuses them).
"""
from __future__ import annotations

import sys
from types import ModuleType
from typing import Iterable, Mapping

# Top-level names never preloaded: Pyodide's bridge to JavaScript and what talks through it.
BRIDGE = frozenset({"js", "pyodide", "_pyodide", "pyodide_js", "micropip"})
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
