"""numpy's start-up imports come from the bytecode the site ships beside Pyodide's numpy wheel
(moodcam_tools.site.pyc, app/engine.js); a damaged bytecode file is skipped, never fatal."""
from __future__ import annotations

import json
import shutil

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e

# PEP 552 flags of the pyc Python used for a module: 1 = the site's unchecked-hash pyc; a pyc
# Python wrote itself after compiling the source is timestamp-based (0).
PYC_FLAGS = """() => self.moodcam.pyodide.runPython(`
import json, sys
_flags = {}
for _name in ("numpy", "numpy.linalg", "numpy._core.multiarray"):
    try:
        with open(sys.modules[_name].__spec__.cached, "rb") as _f:
            _flags[_name] = int.from_bytes(_f.read(8)[4:8], "little")
    except OSError:
        _flags[_name] = None
json.dumps(_flags)
`)"""


def test_numpy_is_imported_from_the_shipped_bytecode(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm&sw=0&bench=1") as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        assert app.engine_eval("() => self.moodcam.bytecode") == {"numpy": "installed"}
        flags = json.loads(app.engine_eval(PYC_FLAGS))
        assert flags == {"numpy": 1, "numpy.linalg": 1, "numpy._core.multiarray": 1}, flags
        marks = app.engine_eval("() => performance.getEntriesByType('mark').map((m) => m.name)")
        order = [m for m in marks if m in ("moodcam:numpy-loaded", "moodcam:numpy-bytecode", "moodcam:numpy-imported")]
        assert order == ["moodcam:numpy-loaded", "moodcam:numpy-bytecode", "moodcam:numpy-imported"], marks


def test_damaged_numpy_bytecode_is_skipped_and_the_mood_still_comes(site, tmp_path, cameras):
    from moodcam_tools.site.serve import serving

    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    path = json.loads((site / "site.json").read_text())["pyodide_bytecode"]["numpy"]
    damaged = copy / path
    damaged.write_bytes(damaged.read_bytes() + b"\0")
    for suffix in (".br", ".gz"):       # the build's compressed copies would still carry the old bytes
        damaged.with_name(damaged.name + suffix).unlink(missing_ok=True)
    with serving(copy) as srv, open_app(srv, camera=cameras("astronaut"), query="?backend=wasm&sw=0") as app:
        app.wait_for(lambda s: s.data().get("mood") == "happy", 120, "mood 'happy' without the bytecode")
        status = app.engine_eval("() => self.moodcam.bytecode")["numpy"]
        assert status.startswith("skipped: ") and "does not match site.json" in status, status
        flags = json.loads(app.engine_eval(PYC_FLAGS))
        assert 1 not in flags.values(), f"the damaged file's pycs were used: {flags}"
        assert app.error()["hidden"], app.error()
