"""`build.py serve` as a person runs it: prints the URL, serves, and stops cleanly on Ctrl-C.

Only loopback is contacted: with --https the server listens on all interfaces and prints the
LAN address, but the test connects through 127.0.0.1.
"""
from __future__ import annotations

import urllib.request

import pytest

from .serve_helpers import REPO, client_context, free_port, start_serve, stop_serve, wait_for_line

DIST = REPO / "dist"


@pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="needs a built dist/ (build.py test builds it)")
def test_serve_prints_url_serves_and_stops_on_ctrl_c():
    port = free_port()
    process = start_serve("--port", str(port))
    lines = wait_for_line(process, "Ctrl-C")
    assert f"http://127.0.0.1:{port}/" in "".join(lines)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    out = stop_serve(process)
    assert process.returncode == 0, out
    assert "stopped" in out and "Traceback" not in out


@pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="needs a built dist/ (build.py test builds it)")
def test_serve_https_makes_a_certificate_and_warns(tmp_path):
    port = free_port()
    process = start_serve("--https", "--port", str(port), env={"MOODCAM_CACHE": str(tmp_path)})
    text = "".join(wait_for_line(process, "Ctrl-C"))
    assert "https://" in text and "self-signed" in text and "warn" in text
    assert list((tmp_path / "certs").glob("*.crt")), "no certificate was generated"
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/", timeout=10, context=client_context()) as response:
        assert response.status == 200
    assert stop_serve(process) and process.returncode == 0


def test_serve_without_a_site_names_the_fix(tmp_path):
    process = start_serve("--dest", str(tmp_path / "nothing"), "--port", str(free_port()))
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "no index.html" in out and "build.py site" in out
