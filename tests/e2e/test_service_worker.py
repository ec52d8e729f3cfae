"""The service worker in Chromium: one cache per site version, swapped whole, old caches deleted.

Runs on a small site made here (the real app/sw.js, stamped by the build's own functions, and a
page that registers it as app/boot.js does), so it needs no built dist/ and no Pyodide.
"""
from __future__ import annotations

import collections
import functools
import json
import shutil
import time
from pathlib import Path

import pytest

from moodcam_tools.site.assemble import _site_files, site_version, stamp_service_worker
from moodcam_tools.site.serve import SiteRequestHandler, serving
from tests.support.browser import CHROMIUM, chromium

from .bounded import _evaluate, _until

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e

PAGE = """<!doctype html><html><head><meta charset="utf-8"><script src="app/a.js"></script></head>
<body><script>navigator.serviceWorker.register("sw.js", { scope: "./" });</script></body></html>"""


def _deploy(root: Path, label: str, *, page: str = PAGE, immutable: tuple[str, ...] = ()) -> str:
    """Write a build of the small site whose app/a.js says `label`; return its site version."""
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(page)
    (root / "app" / "a.js").write_text(f'self.BUILD = "{label}";\n')
    (root / "vendor" / "lib-1.0").mkdir(parents=True, exist_ok=True)
    (root / "vendor" / "lib-1.0" / "lib.js").write_text("self.LIB = 1;\n")
    (root / "vendor" / "lib-1.0" / "extra.js").write_text(f"self.EXTRA = '{label}';\n")   # on demand
    shutil.copyfile(REPO / "app" / "sw.js", root / "sw.js")
    (root / "site.json").unlink(missing_ok=True)
    files = _site_files(root)
    version = site_version(files)
    stamp_service_worker(root / "sw.js", version)
    files["sw.js"] = _site_files(root)["sw.js"]
    (root / "site.json").write_text(json.dumps({"site_version": version, "files": files, "immutable": list(immutable),
                                                "on_demand": ["vendor/lib-1.0/extra.js"]}))
    return version




CACHES = "caches.keys().then(k => k.filter(n => n.startsWith('moodcam-')).sort())"
FETCH_A = "fetch('app/a.js').then(r => r.text())"
FETCH_EXTRA = "fetch('vendor/lib-1.0/extra.js').then(r => r.text())"


def test_new_build_gets_a_new_cache_swapped_whole_and_the_old_one_deleted(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    root = tmp_path / "site"
    v1 = _deploy(root, "one")
    with serving(root) as server, chromium(webgl=False, deadline_s=120) as context:
        page = context.new_page()
        page.goto(server.url)
        _until(page, "navigator.serviceWorker.controller !== null")       # first visit: taken over at once
        _until(page, CACHES, lambda k: k == [f"moodcam-{v1}"])
        _until(page, FETCH_A, lambda text: "one" in text)

        v2 = _deploy(root, "two")
        assert v2 != v1
        _until(page, "navigator.serviceWorker.getRegistration().then(r => r.update()).then(() => true)")
        _until(page, "navigator.serviceWorker.getRegistration().then(r => !!r.waiting)")
        # The new version is cached whole beside the old one, but the open page keeps its own build.
        _until(page, CACHES, lambda k: k == sorted([f"moodcam-{v1}", f"moodcam-{v2}"]))
        _until(page, FETCH_A, lambda text: "one" in text)

        # Every document this tab shows notes its first words (sessionStorage lives as long as the tab).
        page.add_init_script("addEventListener('DOMContentLoaded', () => sessionStorage.setItem('shown', "
                             "(sessionStorage.getItem('shown') || '') + '|' + document.body.textContent.trim()))")
        page.reload()                                                     # the only page reloads
        _until(page, f"navigator.serviceWorker.controller && {CACHES}.then(k => k.length === 1)")
        # ...through the worker's stand-in page, which says what is happening (never a blank page).
        assert "|Updating moodcam…" in _until(page, "sessionStorage.getItem('shown')", lambda v: "|" in (v or ""))
        _until(page, CACHES, lambda k: k == [f"moodcam-{v2}"])
        _until(page, "self.BUILD", lambda b: b == "two")
        _until(page, FETCH_A, lambda text: "two" in text)

        # Offline (server gone from under it): the page and its files still come from the cache.
        server.shutdown()
        server.server_close()
        page.reload()
        _until(page, "navigator.serviceWorker.controller !== null")
        _until(page, "self.BUILD", lambda b: b == "two")
        _until(page, FETCH_A, lambda text: "two" in text)
        assert _evaluate(page, CACHES) == [f"moodcam-{v2}"], "no old cache made again by a late request"


def test_install_fails_whole_when_a_file_does_not_match_site_json(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    root = tmp_path / "site"
    _deploy(root, "one")
    (root / "app" / "a.js").write_text('self.BUILD = "changed after the build";\n')   # mid-deploy
    with serving(root) as server, chromium(webgl=False, deadline_s=120) as context:
        page = context.new_page()
        page.goto(server.url)
        time.sleep(2)
        assert _evaluate(page, "navigator.serviceWorker.controller") is None
        assert _evaluate(page, CACHES) == []


CACHED_PATHS = """caches.keys().then(k => caches.open(k.find(n => n.startsWith('moodcam-'))))
    .then(c => c.keys()).then(r => r.map(q => new URL(q.url).pathname).sort())"""


def test_on_demand_files_are_cached_on_first_use_and_only_when_they_match(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    root = tmp_path / "site"
    _deploy(root, "one")
    with serving(root) as server, chromium(webgl=False, deadline_s=120) as context:
        page = context.new_page()
        page.goto(server.url)
        _until(page, "navigator.serviceWorker.controller !== null")
        paths = _until(page, CACHED_PATHS, lambda p: isinstance(p, list))
        assert "/vendor/lib-1.0/lib.js" in paths
        assert "/vendor/lib-1.0/extra.js" not in paths, "not precached"
        _until(page, FETCH_EXTRA, lambda text: "one" in text)
        _until(page, f"{CACHED_PATHS}.then(p => p.includes('/vendor/lib-1.0/extra.js'))")

        # Another build's bytes on the server (a deploy under a running page): answered, never cached.
        (root / "vendor" / "lib-1.0" / "extra.js").write_text("self.EXTRA = 'other build';\n")
        _until(page, "caches.keys().then(k => caches.open(k[0])).then(c => c.delete('vendor/lib-1.0/extra.js')).then(() => true)")
        _until(page, CACHED_PATHS, lambda p: "/vendor/lib-1.0/extra.js" not in p)
        _until(page, FETCH_EXTRA, lambda text: "other build" in text)
        time.sleep(1)
        assert "/vendor/lib-1.0/extra.js" not in _until(page, CACHED_PATHS, lambda p: isinstance(p, list))


def test_install_takes_immutable_files_from_the_http_cache_without_asking_the_server_again(tmp_path):
    """The precache must not fetch an immutable file again (cache: "no-cache" did): a second download or
    revalidation gives the HTTP cache entry a new response time, and V8's code cache for a .wasm, keyed
    to the entry the page compiled from, is then never read (bench/README "A phone-class CPU": a return
    visit compiled and tiered up pyodide.asm.wasm again, 2.4 CPU-s more). Other files are revalidated."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    root = tmp_path / "site"
    page = PAGE.replace('<script src="app/a.js"></script>',
                        '<script src="app/a.js"></script><script src="vendor/lib-1.0/lib.js"></script>')
    _deploy(root, "one", page=page, immutable=("vendor/lib-1.0/lib.js",))
    asked: collections.Counter = collections.Counter()

    class Counting(SiteRequestHandler):
        def send_response(self, code, message=None):
            asked[self._url_path()] += 1
            super().send_response(code, message)

    with serving(root) as server, chromium(webgl=False, deadline_s=120) as context:
        server.RequestHandlerClass = functools.partial(Counting, directory=str(root))
        page_ = context.new_page()
        page_.goto(server.url)
        _until(page_, "navigator.serviceWorker.controller !== null")
        assert "/vendor/lib-1.0/lib.js" in _until(page_, CACHED_PATHS, lambda p: isinstance(p, list))
    assert asked["/vendor/lib-1.0/lib.js"] == 1, asked      # the page's own request, and no other
    assert asked["/app/a.js"] == 2, asked                   # the page's, then the install's revalidation
