"""The engine's worker runs under the page's Content-Security-Policy, and still boots.

A worker takes its policy from its own script's response (the page's <meta> tag does not reach
it), so the server sends index.html's policy as a header (moodcam_tools.site.serve). Here the
app reaches its frames with the engine in app/worker.js under that header, and a fetch to
another origin from inside the worker is refused by `connect-src 'self'` before any request
leaves the browser. TF.js's threaded wasm, whose pthread workers start from blob: URLs under the
same policy, is used only with 3 or more cores, which the test machine lacks: a copy of the site
whose worker reports 4 cores starts it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from moodcam_tools.site.serve import serving

from .conftest import open_app

pytestmark = pytest.mark.e2e

# Resolves with the violated directive, or "no violation" after 5 s; the fetch's own outcome follows.
FETCH_ELSEWHERE = """async (url) => {
  const violation = new Promise((resolve) => self.addEventListener("securitypolicyviolation",
    (event) => resolve(`${event.effectiveDirective} ${event.blockedURI}`), { once: true }));
  const fetched = fetch(url).then(() => "fetched", (error) => `refused: ${error}`);
  const seen = await Promise.race([violation, new Promise((r) => setTimeout(() => r("no violation"), 5000))]);
  return [seen, await fetched];
}"""


def test_the_worker_boots_under_the_policy_and_reaches_only_its_origin(server, cameras):
    assert server.declarations.content_security_policy(), "the served index.html has no policy"
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm") as app:
        data = app.wait_state("running", "error")
        assert data["appState"] == "running", app.error()
        assert data.get("engine") != "page", "the engine fell back to the page"
        app.wait_frames(2)
        [worker] = [w for w in app.page.workers if w.url.endswith("/app/worker.js")]

        port = urlsplit(server.url).port
        elsewhere = f"http://localhost:{port}/site.json"    # another origin than 127.0.0.1:{port}
        seen, fetched = worker.evaluate(FETCH_ELSEWHERE, elsewhere)
        assert seen.startswith("connect-src"), (seen, fetched)
        assert fetched.startswith("refused"), fetched
        assert not [r for r in app.requests if r.url.startswith("http://localhost:")], "the request left"
        assert app.error()["hidden"]
        app.assert_network_clean()


FOUR_CORES = 'Object.defineProperty(WorkerNavigator.prototype, "hardwareConcurrency", { get: () => 4 });\n'


@pytest.fixture
def four_core_site(site, tmp_path) -> Path:
    """The site, linked file by file, but app/worker.js says the device has 4 cores."""
    copy = tmp_path / "site"
    shutil.copytree(site, copy, copy_function=os.symlink)
    for name in ("worker.js", "worker.js.br", "worker.js.gz"):
        (copy / "app" / name).unlink(missing_ok=True)
    (copy / "app" / "worker.js").write_text(FOUR_CORES + (site / "app" / "worker.js").read_text())
    return copy


def test_threaded_wasm_starts_in_the_worker_under_the_policy(four_core_site, cameras):
    with serving(four_core_site) as server, \
            open_app(server, camera=cameras("astronaut"), query="?backend=wasm&sw=0") as app:
        data = app.wait_state("running", "error")
        assert data["appState"] == "running", app.error()
        assert data.get("engine") != "page", "the engine fell back to the page"
        threaded, threads = app.engine_eval(
            "() => [tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'), navigator.hardwareConcurrency]")
        assert (threaded, threads) == (True, 4)
        app.wait_frames(2)
        wasm = {r.url.rsplit("/", 1)[-1] for r in app.requests if r.url.endswith(".wasm")}
        assert "tfjs-backend-wasm-threaded-simd.wasm" in wasm, wasm
        pthreads = [w.url for w in app.page.workers if w.url.startswith("blob:")]
        assert pthreads, f"no pthread worker from a blob: URL among {[w.url for w in app.page.workers]}"
        assert app.error()["hidden"]
        app.assert_network_clean()
