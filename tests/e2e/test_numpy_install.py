"""The engine installs the site's wheels itself (app/engine.js, unpackWheel; issue 26).

The site packs its wheels stored, so the engine writes each member into Pyodide's file system
straight from the fetched bytes, without Python's zipfile, and numpy comes in that way instead of
through loadPackage: Python's import then links each of numpy's shared libraries as it is
imported, not all 19 up front. Checked in the app's own worker, in Debian Chromium:
- the zip reader (storedMembers) on stored, compressed, escaping and damaged archives;
- numpy's libraries linked only as imported, a later import of another part still working, and
  Pyodide's package manager treating numpy as installed (a later loadPackage installs nothing).
"""
from __future__ import annotations

import io
import zipfile

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e

LOADED_LIBS = "() => Object.keys(self.moodcam.pyodide._module.LDSO.loadedLibsByName)"


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> list[int]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return list(buffer.getvalue())


def libs(app, part: str) -> list[str]:
    return [name for name in app.engine_eval(LOADED_LIBS) if part in name]


def test_the_zip_reader_takes_stored_wheels_and_leaves_the_rest_to_pyodide(server, cameras):
    members = {"pkg/__init__.py": b"VALUE = 7\n", "pkg/data/blob.bin": bytes(range(256)) * 5,
               "pkg-1.0.dist-info/RECORD": b""}
    stored = zip_bytes(members)
    with open_app(server, camera=cameras("astronaut")) as app:
        app.wait_frames(1, 120)
        read = "(b) => self.moodcamEngine.storedMembers(new Uint8Array(b))"
        found = app.engine_eval(read, stored)
        assert [m["name"] for m in found] == list(members)
        assert [m["size"] for m in found] == [len(d) for d in members.values()]
        # Compressed members, a name that leaves the folder and a cut archive: not for this reader.
        assert app.engine_eval(read, zip_bytes(members, zipfile.ZIP_DEFLATED)) is None
        assert app.engine_eval(read, zip_bytes({"../evil.py": b"x = 1\n"})) is None
        assert app.engine_eval(read, stored[: len(stored) // 2]) is None

        # Unpacked (stored: from JS; deflated: by Pyodide), then importable at once: the folder
        # was listed (empty) by a lookup before, and unpackWheel made its finder forget that
        # listing (FileFinder.invalidate_caches sets its _path_mtime to -1; the finder's own mtime
        # check would miss files written in the same clock tick as the listing).
        for folder, data in (("/tmp/stored", stored), ("/tmp/deflated", zip_bytes(members, zipfile.ZIP_DEFLATED))):
            got = app.engine_eval("""([folder, b]) => {
                const pyodide = self.moodcam.pyodide;
                pyodide.FS.mkdirTree(folder);
                const before = pyodide.runPython(`import importlib.util, sys; sys.modules.pop("pkg", None)
sys.path.insert(0, ${JSON.stringify(folder)}); importlib.util.find_spec("pkg") is None`);
                self.moodcamEngine.unpackWheel(pyodide, new Uint8Array(b).buffer, folder);
                const forgot = pyodide.runPython(`sys.path_importer_cache[${JSON.stringify(folder)}]._path_mtime == -1`);
                const blob = pyodide.FS.readFile(folder + "/pkg/data/blob.bin");
                const value = pyodide.runPython(`import pkg; sys.path.remove(${JSON.stringify(folder)}); pkg.VALUE`);
                return [before, forgot, Array.from(blob), value];
            }""", [folder, data])
            assert got == [True, True, list(members["pkg/data/blob.bin"]), 7], folder


def test_numpy_comes_from_the_site_wheel_and_links_its_libraries_as_imported(server, cameras):
    with open_app(server, camera=cameras("astronaut")) as app:
        app.wait_frames(1, 120)
        assert app.engine_eval("() => self.moodcam.pyodide.loadedPackages.numpy") == "default channel"
        # `import numpy` (and the app) linked _multiarray_umath, not FFT's library.
        assert libs(app, "_multiarray_umath"), app.engine_eval(LOADED_LIBS)
        assert not libs(app, "_pocketfft_umath")
        total = len(app.engine_eval(LOADED_LIBS))
        assert total < 19, app.engine_eval(LOADED_LIBS)
        # Another part of numpy, imported later: its library is linked then, and works.
        spectrum = app.engine_eval("""() => self.moodcam.pyodide.runPython(
            "import numpy.fft; [round(float(abs(v)), 6) for v in numpy.fft.fft([1.0, 0.0, -1.0, 0.0])]").toJs()""")
        assert spectrum == [0.0, 2.0, 0.0, 2.0]
        assert libs(app, "_pocketfft_umath")
        # Pyodide's package manager knows numpy is in: loading it again installs nothing.
        again = app.engine_eval("() => self.moodcam.pyodide.loadPackage('numpy').then((loaded) => loaded.length)")
        assert again == 0
        assert len(app.engine_eval(LOADED_LIBS)) == total + 1
