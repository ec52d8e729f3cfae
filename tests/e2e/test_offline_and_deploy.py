"""Return visits as people meet them: offline after one visit, and a deploy picked up whole.

- Offline: after the first visit (the service worker, registered once the page has its first answer, has precached
  the start set; the engine has kept its Pyodide snapshot), the browser goes offline and the page
  still starts and reads the mood.
- Deploy: the emotion model's graph file changes on the server (a real re-serialisation: same
  graph, new bytes, new sha256 in the manifest and site.json, a new service worker version); the
  next visit runs the new build with the new file, no stale or mixed files, and the old version's
  cache is gone.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from moodcam_tools.site.assemble import site_version, stamp_service_worker
from moodcam_tools.site.serve import serving

from .bounded import _until
from .conftest import open_app

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
CACHES = "caches.keys().then(k => k.filter(n => n.startsWith('moodcam-')).sort())"
GRAPH = "models/emotion_mini_xception/model.json"


def wait_happy(app, what: str) -> None:
    # Bounded reads (tests/e2e/bounded.py): these visits go through worker swaps and reloads.
    try:
        _until(app.page, "document.documentElement.dataset.mood", lambda mood: mood == "happy", timeout=120)
    except AssertionError as error:
        raise AssertionError(f"no mood 'happy' on the {what}: {error}; console tail: {app.console[-8:]}") from None


def wait_controlled(app) -> None:
    _until(app.page, "!!navigator.serviceWorker.controller", timeout=120)


@pytest.fixture
def site_copy(site, tmp_path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("vendor"))
    (copy / "vendor").symlink_to(site / "vendor", target_is_directory=True)
    return copy


def _write(root: Path, rel: str, data: bytes) -> str:
    path = root / rel
    path.write_bytes(data)
    for suffix in (".br", ".gz"):       # the build's compressed copies would carry the old bytes
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return hashlib.sha256(data).hexdigest()


def deploy_new_graph_file(root: Path) -> tuple[str, str]:
    """Change one model file as a deploy would; return (old site_version, new graph sha256)."""
    site = json.loads((root / "site.json").read_text())
    graph = json.loads((root / GRAPH).read_bytes())
    new_bytes = json.dumps(graph, indent=1).encode()          # same graph, other bytes
    sha = _write(root, GRAPH, new_bytes)
    manifest = json.loads((root / "models/manifest.json").read_text())
    for entry in manifest["models"]["emotion_mini_xception"]["files"]:
        if entry["path"] == GRAPH.removeprefix("models/"):
            entry.update(sha256=sha, size=len(new_bytes))
    files = dict(site["files"])
    files[GRAPH] = sha
    files["models/manifest.json"] = _write(root, "models/manifest.json", json.dumps(manifest, indent=1).encode())
    _write(root, "sw.js", (REPO / "app" / "sw.js").read_bytes())
    files.pop("sw.js")
    version = site_version(files)
    stamp_service_worker(root / "sw.js", version)
    files["sw.js"] = _write(root, "sw.js", (root / "sw.js").read_bytes())
    _write(root, "site.json", json.dumps({**site, "files": files, "site_version": version}, indent=1).encode())
    return site["site_version"], sha


# Observes (does not change) the page's service-worker registration: the app's state at each call.
RECORD_REGISTER = """
const register = ServiceWorkerContainer.prototype.register;
window.__swRegisteredIn = [];
ServiceWorkerContainer.prototype.register = function (...args) {
  window.__swRegisteredIn.push(document.documentElement.dataset.appState);
  return register.apply(this, args);
};
"""


def test_second_visit_starts_offline(site_copy, cameras):
    with serving(site_copy) as server, open_app(server, camera=cameras("astronaut"), query="?backend=wasm",
                                                init_script=RECORD_REGISTER) as app:
        wait_happy(app, "first visit")
        wait_controlled(app)
        # A first visit's precaching waits until the app runs (app/boot.js): it would compete with the start.
        registered_in = app.page.evaluate("() => window.__swRegisteredIn")
        assert len(registered_in) == 1 and registered_in[0] != "loading", registered_in
        app.page.context.set_offline(True)
        app.page.reload()
        wait_happy(app, "offline return visit")
        assert app.data()["appState"] == "running" and app.error()["hidden"]


def test_a_deploy_is_picked_up_whole_on_the_next_visit(site_copy, cameras):
    with serving(site_copy) as server, open_app(server, camera=cameras("astronaut"), query="?backend=wasm") as app:
        wait_happy(app, "first visit")
        wait_controlled(app)
        old_version, new_sha = deploy_new_graph_file(site_copy)
        new_version = json.loads((site_copy / "site.json").read_text())["site_version"]
        _until(app.page, CACHES, lambda v: v == [f"moodcam-{old_version}"])

        # The next visit finds the new service worker, which caches the new build whole beside the
        # old one while this page keeps running the old build...
        app.page.reload()
        _until(app.page, "navigator.serviceWorker.getRegistration().then(r => !!(r && r.waiting))", timeout=120)
        _until(app.page, CACHES, lambda v: v == sorted([f"moodcam-{old_version}", f"moodcam-{new_version}"]))
        # ...and the visit after swaps it in (the only page: it reloads at once) and deletes the old.
        app.page.reload()
        _until(app.page, CACHES, lambda v: v == [f"moodcam-{new_version}"], timeout=120)
        wait_happy(app, "visit after the deploy")
        served = _until(app.page, f"fetch('{GRAPH}').then(r => r.arrayBuffer())"
                                  ".then(b => crypto.subtle.digest('SHA-256', b))"
                                  ".then(d => Array.from(new Uint8Array(d), x => x.toString(16).padStart(2, '0')).join(''))",
                        lambda sha: isinstance(sha, str))
        assert served == new_sha, "the page reads the deployed graph file"
        site_seen = _until(app.page, "fetch('site.json').then(r => r.json()).then(s => s.site_version)",
                           lambda v: isinstance(v, str))
        assert site_seen == new_version
        assert app.error()["hidden"], app.error()
