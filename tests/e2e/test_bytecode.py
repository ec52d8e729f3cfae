"""numpy's start-up imports come from the bytecode the site ships in its numpy wheel, in place of
their sources (moodcam_tools.site.pyc, site.assemble): the import compiles nothing."""
from __future__ import annotations

import json

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e

# Where each module came from, and the PEP 552 flags of that pyc: 1 = the site's unchecked-hash
# pyc; a pyc Python wrote itself after compiling a source would be timestamp-based (0).
PYC_FLAGS = """() => self.moodcam.pyodide.runPython(`
import json, sys
_found = {}
for _name in ("numpy", "numpy.linalg", "numpy._core.multiarray"):
    _spec = sys.modules[_name].__spec__
    with open(_spec.cached, "rb") as _f:
        _found[_name] = [_spec.origin.rsplit("/", 1)[-1], int.from_bytes(_f.read(8)[4:8], "little")]
json.dumps(_found)
`)"""


def test_numpy_is_imported_from_the_shipped_bytecode(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm&sw=0&bench=1") as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        found = json.loads(app.engine_eval(PYC_FLAGS))
        assert found == {"numpy": ["__init__.pyc", 1], "numpy.linalg": ["__init__.pyc", 1],
                         "numpy._core.multiarray": ["multiarray.pyc", 1]}, found
        # A module `import numpy` does not load kept its source, and still imports.
        assert app.engine_eval("""() => self.moodcam.pyodide.runPython(
            "import numpy.char; numpy.char.__file__.rsplit('/', 1)[-1]")""") == "__init__.py"
        marks = app.engine_eval("() => performance.getEntriesByType('mark').map((m) => m.name)")
        order = [m for m in marks if m in ("moodcam:numpy-loaded", "moodcam:numpy-imported")]
        assert order == ["moodcam:numpy-loaded", "moodcam:numpy-imported"], marks
