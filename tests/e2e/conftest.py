"""End-to-end fixtures: the built site, served as a person gets it, in Debian Chromium.

- The site is `dist/` (python3 build.py site); MOODCAM_DIST points elsewhere.
- The camera is Chromium's fake device playing a y4m made from a real photo.
- Every request the browser makes is recorded (`AppSession.requests`) so each
  test can prove that all of them went to the page's own origin and that none
  carried frame data.
- Screenshots go to test-results/e2e/ (git-ignored), kept as artefacts.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "py") not in sys.path:
    sys.path.insert(0, str(REPO / "py"))

ARTEFACTS = REPO / "test-results" / "e2e"

pytest.importorskip("playwright", reason="the e2e tier needs playwright (pip install playwright)")
pytest.importorskip("skimage", reason="the e2e tier makes its fake cameras from scikit-image photos")

from tests.fixtures.cameras import camera_file  # noqa: E402
from tests.support.browser import CHROMIUM, TEST_DEADLINE_S, chromium  # noqa: E402


def site_root() -> Path:
    return Path(os.environ.get("MOODCAM_DIST") or REPO / "dist")


@pytest.fixture(scope="session")
def site() -> Path:
    root = site_root()
    if not (root / "index.html").is_file() or not (root / "site.json").is_file():
        pytest.skip(f"no built site at {root}: run `python3 build.py site` (or set MOODCAM_DIST)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return root


@pytest.fixture(scope="session")
def server(site):
    from moodcam_tools.site.serve import serving

    with serving(site) as srv:
        yield srv


@pytest.fixture(scope="session")
def cameras(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cameras")

    def get(name: str) -> Path:
        return camera_file(name, folder)[0]

    return get


@dataclass
class Request:
    url: str
    method: str
    body_bytes: int
    resource_type: str


@dataclass
class AppSession:
    page: object
    base_url: str
    requests: list[Request] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    # -- DOM contract -----------------------------------------------------------
    def data(self) -> dict:
        return self.page.evaluate("() => ({...document.documentElement.dataset})")

    def text(self, element_id: str) -> str:
        return self.page.evaluate("(id) => document.getElementById(id).textContent", element_id)

    def faces(self) -> list[dict]:
        return json.loads(self.page.evaluate("() => document.getElementById('overlay').dataset.faces || '[]'"))

    def error(self) -> dict:
        return self.page.evaluate("""() => { const e = document.getElementById('error');
            return {hidden: e.hidden, code: e.dataset.errorCode || '',
                    message: document.getElementById('error-message').textContent,
                    fix: document.getElementById('error-fix').textContent,
                    action: document.getElementById('error-action').hidden ? '' :
                            document.getElementById('error-action').textContent}; }""")

    # -- the engine (TF.js + Pyodide): in the worker, or on the page with ?worker=0 -----------
    def engine_scope(self):
        """Where the engine runs: the app's worker (app/worker.js) or, on the fallback path, the page."""
        if self.data().get("engine") == "page":
            return self.page
        for worker in self.page.workers:
            if worker.url.endswith("/app/worker.js"):
                return worker
        raise AssertionError(f"no app/worker.js among the page's workers: {[w.url for w in self.page.workers]}")

    def engine_eval(self, expression: str, arg=None):
        """Evaluate a JS function in the engine's scope (tf, moodcam.pyodide, moodcam.canvases)."""
        scope = self.engine_scope()
        return scope.evaluate(expression) if arg is None else scope.evaluate(expression, arg)

    def diagnostics(self) -> dict:
        return json.loads(self.page.evaluate("() => window.moodcamDiagnostics()"))

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "condition", poll: float = 0.25):
        """Poll `predicate(self)` until truthy; fail with the page state when it never is."""
        end = time.monotonic() + timeout
        value = None
        while time.monotonic() < end:
            try:
                value = predicate(self)
            except Exception as error:  # noqa: BLE001 - the page is navigating (a reload, ?model=...)
                if "context was destroyed" not in str(error) and "navigat" not in str(error):
                    raise
                value = None
            if value:
                return value
            time.sleep(poll)
        pytest.fail(f"timed out after {timeout}s waiting for {what}; page: {self.data()} "
                    f"error: {self.error()} console tail: {self.console[-8:]}")

    def wait_state(self, *states: str, timeout: float = 90.0) -> dict:
        return self.wait_for(lambda s: (d := s.data()).get("appState") in states and d,
                             timeout, f"appState in {states}")

    def wait_frames(self, count: int, timeout: float = 60.0) -> int:
        return self.wait_for(lambda s: int(s.data().get("frames", "0") or 0) >= count and
                             int(s.data()["frames"]), timeout, f"{count} processed frames")

    def screenshot(self, name: str) -> Path:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    # -- network audit ------------------------------------------------------------
    def foreign_requests(self) -> list[Request]:
        origin = urlsplit(self.base_url)
        own = (origin.scheme, origin.netloc)
        bad = []
        for r in self.requests:
            parts = urlsplit(r.url)
            if parts.scheme in ("data", "about"):
                continue
            if parts.scheme == "blob":
                # blob:http://host:port/uuid, made by the page itself (TF.js wasm workers).
                parts = urlsplit(r.url[len("blob:"):])
            if (parts.scheme, parts.netloc) != own:
                bad.append(r)
        return bad

    def requests_with_payload(self, limit: int = 256) -> list[Request]:
        """Requests that could carry a frame: any body, any non-GET, or a long query string."""
        return [r for r in self.requests
                if r.body_bytes > 0 or r.method not in ("GET", "HEAD") or len(urlsplit(r.url).query) > limit]

    def assert_network_clean(self) -> None:
        assert self.requests, "no request was recorded at all"
        foreign = self.foreign_requests()
        assert not foreign, f"requests left the page's origin: {[r.url for r in foreign]}"
        payload = self.requests_with_payload()
        assert not payload, f"requests that could carry frame data: {[(r.method, r.url) for r in payload]}"


def _record(session: AppSession):
    def on_request(request) -> None:
        try:
            body = request.post_data_buffer
        except Exception:  # noqa: BLE001 - undecodable body still counts as a body
            body = b"?"
        session.requests.append(Request(request.url, request.method, len(body or b""), request.resource_type))
    return on_request


@contextlib.contextmanager
def open_app(server, *, camera: Path | None, query: str = "?backend=wasm", webgl: bool = True,
             camera_permission: bool = True, viewport: tuple[int, int] = (1366, 768), site_url: str | None = None,
             extra_flags: list[str] | None = None, init_script: str | None = None,
             deadline_s: float = TEST_DEADLINE_S):
    """Launch Chromium on the page; yield an AppSession recording every request.

    `deadline_s`: Chromium is killed (and the test fails) if the block is still open after it.

    `init_script` runs in the page before any of its own scripts (e.g. a PerformanceObserver)."""
    base = site_url or server.url
    with chromium(webgl=webgl, fake_camera=camera, camera_permission=camera_permission,
                  viewport=viewport, extra_flags=extra_flags, deadline_s=deadline_s) as context:
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        session = AppSession(page, base)
        context.on("request", _record(session))
        page.on("console", lambda m: session.console.append(f"{m.type}: {m.text[:300]}"))
        page.on("pageerror", lambda e: session.console.append(f"pageerror: {e}"))
        page.goto(base + query)
        yield session


@pytest.fixture
def app_factory(server):
    return lambda **kw: open_app(server, **kw)
