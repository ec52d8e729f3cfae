"""Return visits start Python from a memory snapshot of the interpreter kept on the device.

The first visit takes the snapshot (a bare interpreter with the standard-library modules the app
imports, and moodcam's modules that need neither numpy nor JavaScript, already imported) into
Cache Storage;
the next visit restores it (engine mark `pyodide-from-snapshot`) and reaches the mood; a
damaged snapshot is refused, deleted and replaced, and the visit still reaches the mood.
"""
from __future__ import annotations

import pytest

from bench.browser import ENGINE_MARKS

from .conftest import open_app

pytestmark = pytest.mark.e2e

SNAPSHOTS = "() => caches.keys().then(k => k.filter(n => n.startsWith('pyodide-snapshot-')))"


def engine_marks(app) -> dict:
    """The engine worker's performance marks (app/engine.js), name -> ms since its time origin."""
    [worker] = [w for w in app.page.workers if w.url.endswith("/app/worker.js")]
    return dict(worker.evaluate(ENGINE_MARKS))


def visit(app, what: str) -> dict:
    app.wait_for(lambda s: s.data().get("mood") == "happy", 120, f"mood 'happy' on the {what}")
    return engine_marks(app)


def test_return_visit_restores_the_interpreter_and_a_damaged_snapshot_is_replaced(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm&bench=1") as app:
        first = visit(app, "first visit")
        assert "pyodide-from-snapshot" not in first and "pyodide-runtime" in first
        app.wait_for(lambda s: "snapshot-kept" in engine_marks(s), 150, "a snapshot kept in Cache Storage")
        [name] = app.page.evaluate(SNAPSHOTS)
        # It holds the standard-library modules this start imported (moodcam.browser.preload),
        # numpy's and moodcam's, without the ones that live outside the wasm memory.
        [worker] = [w for w in app.page.workers if w.url.endswith("/app/worker.js")]
        kept = worker.evaluate("() => self.moodcam.snapshot")
        assert kept["bytes"] > 1_000_000
        for module in ("pickle", "dataclasses", "json"):
            assert module in kept["imported"], (module, kept["imported"])
        assert not [m for m in kept["imported"] if m.split(".")[0] in ("ctypes", "numpy", "js", "pyodide")]
        # and moodcam's own modules that need neither numpy nor JavaScript, from the wheel this
        # visit installed (whose sha256 names the cache), never one that needs either
        for module in ("moodcam.browser.messages", "moodcam.browser.failures", "moodcam.browser.settings"):
            assert module in kept["imported"], (module, kept["imported"])
        for module in ("moodcam.pipeline", "moodcam.browser.interop", "moodcam.mood.state", "moodcam.browser.engine"):
            assert module not in kept["imported"], module
        site = app.page.evaluate("() => fetch('site.json').then(r => r.json())")
        assert name.endswith("-" + site["files"][site["wheel"]][:12]), (name, site["wheel"])

        app.page.reload()
        second = visit(app, "return visit")
        assert "pyodide-from-snapshot" in second, (second, [c for c in app.console if "snapshot" in c])
        # moodcam's modules restored with the interpreter name the files the engine unpacked beside them.
        [worker] = [w for w in app.page.workers if w.url.endswith("/app/worker.js")]
        assert worker.evaluate("() => self.moodcam.pyodide.runPython("
                               "'import moodcam.browser.messages as m; m.__file__')").endswith("messages.py")
        # Restoring is the point: the interpreter is up sooner than on the first visit.
        print(f"\ninterpreter ready at {first['pyodide-runtime'] - first['engine-start']:.0f} ms "
              f"(first visit) vs {second['pyodide-runtime'] - second['engine-start']:.0f} ms (return)")

        # A damaged snapshot (same cache, same entry, wrong bytes) is refused and replaced.
        app.page.evaluate("""async (name) => {
            const cache = await caches.open(name);
            const [request] = await cache.keys();
            await cache.put(request, new Response(new Uint8Array(4096).fill(7)));
        }""", name)
        app.page.reload()
        third = visit(app, "visit with a damaged snapshot")
        assert "pyodide-from-snapshot" not in third
        assert any("snapshot did not load" in line for line in app.console), app.console[-5:]
        app.wait_for(lambda s: "snapshot-kept" in engine_marks(s), 150, "the snapshot remade")
        size = app.page.evaluate("""async (name) => {
            const cache = await caches.open(name);
            const [request] = await cache.keys();
            return (await (await cache.match(request)).arrayBuffer()).byteLength;
        }""", name)
        assert size > 1_000_000, "a good snapshot replaced the damaged one"
        assert app.error()["hidden"]

    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm&bench=1&snapshot=0") as app:
        marks = visit(app, "visit with ?snapshot=0")
        assert "pyodide-runtime" in marks
        assert app.page.evaluate(SNAPSHOTS) == [], "?snapshot=0 neither reads nor keeps a snapshot"


@pytest.mark.parametrize("imports", [[], ["json", "no_such_module"]])
def test_the_snapshot_maker_keeps_one_whatever_the_import_list(server, imports):
    """app/snapshot.js with no modules to import (the engine's fallback when moodcam.browser.preload
    cannot answer) or with one that fails to import: a snapshot is still kept, holding what imported."""
    from tests.support.browser import chromium

    with chromium(webgl=False) as context:
        page = context.new_page()
        page.goto(server.url + "site.json")
        reply = page.evaluate("""async (imports) => {
            const site = await (await fetch("site.json")).json();
            const worker = new Worker("app/snapshot.js");
            const reply = await new Promise((resolve) => {
                worker.onmessage = (event) => resolve(event.data);
                worker.postMessage({ indexURL: new URL(site.pyodide, location.href).href,
                                     cache: "pyodide-snapshot-test", url: "/test.snapshot",
                                     prefix: "pyodide-snapshot-test", imports });
            });
            worker.terminate();
            const kept = await (await caches.open("pyodide-snapshot-test")).match("/test.snapshot");
            return { ...reply, kept: kept ? (await kept.arrayBuffer()).byteLength : 0 };
        }""", imports)
    assert "error" not in reply, reply["error"]
    assert reply["imported"] == [m for m in imports if m != "no_such_module"]
    assert reply["bytes"] > 1_000_000 and reply["kept"] == reply["bytes"]
