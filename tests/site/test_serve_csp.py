"""The Content-Security-Policy reaches the worker, where every fetch happens.

The page's policy is a <meta> tag in index.html. A worker takes its policy from its own
script's response, not from the page, so the server sends index.html's policy as a header on
every answer (the page, app/worker.js, the workers it starts, sw.js), and docs/deploying.md
shows a static host the same header.
"""
from __future__ import annotations

import http.client
import re
import shutil
from pathlib import Path

import pytest

from moodcam_tools.site.serve import meta_content_security_policy, serving

REPO = Path(__file__).resolve().parents[2]
POLICY = meta_content_security_policy((REPO / "index.html").read_text())
# Source expressions that name no other origin.
OWN_ORIGIN_ONLY = {"'self'", "'none'", "'unsafe-eval'", "'wasm-unsafe-eval'", "'unsafe-inline'",
                   "blob:", "data:", "mediastream:"}


@pytest.fixture
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    (root / "app").mkdir(parents=True)
    shutil.copyfile(REPO / "index.html", root / "index.html")
    for name in ("worker.js", "engine.js", "snapshot.js"):
        shutil.copyfile(REPO / "app" / name, root / "app" / name)
    shutil.copyfile(REPO / "app" / "sw.js", root / "sw.js")
    return root


def _headers(server, path: str) -> tuple[int, http.client.HTTPMessage]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, response.headers
    finally:
        conn.close()


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


def test_the_page_has_a_policy_that_allows_only_its_own_origin():
    assert POLICY, "index.html has no <meta http-equiv=\"Content-Security-Policy\">"
    directives = _directives(POLICY)
    assert directives["default-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]      # fetch, XHR, WebSocket: nowhere else
    others = {source for sources in directives.values() for source in sources} - OWN_ORIGIN_ONLY
    assert not others, f"sources that may name another origin: {others}"


@pytest.mark.parametrize("path", ["/app/worker.js", "/app/snapshot.js", "/app/engine.js", "/sw.js", "/",
                                  "/index.html", "/missing.js"])
def test_every_answer_carries_the_pages_policy(site, path):
    with serving(site) as server:
        status, headers = _headers(server, path)
        assert status in (200, 404)
        assert headers.get_all("Content-Security-Policy") == [POLICY], path


def test_the_header_follows_the_page_when_it_changes(site):
    with serving(site) as server:
        page = (site / "index.html").read_text()
        (site / "index.html").write_text(page.replace("object-src 'none';", "object-src 'none'; frame-src 'none';"))
        _, headers = _headers(server, "/app/worker.js")
        assert "frame-src 'none'" in headers["Content-Security-Policy"]


def test_a_page_without_a_policy_gets_no_header(site):
    (site / "index.html").write_text("<html>no policy</html>")
    with serving(site) as server:
        _, headers = _headers(server, "/app/worker.js")
        assert "Content-Security-Policy" not in headers


def test_the_deploy_docs_show_the_same_header_for_the_worker_and_the_page():
    docs = (REPO / "docs" / "deploying.md").read_text()
    block = re.search(r"```\n(/\*\n(?:  .*\n)+)```", docs)
    assert block, "docs/deploying.md has no `_headers` example"
    assert f"  Content-Security-Policy: {POLICY}\n" in block.group(1)
