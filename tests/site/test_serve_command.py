"""`build.py serve` as a person runs it: prints the URL, serves, and stops cleanly on Ctrl-C.

Only loopback is contacted: with --https the server listens on all interfaces and prints the
LAN address, but the test connects through 127.0.0.1.
"""
from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-u", str(REPO / "build.py"), "serve", "--no-build", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                            env={**os.environ, **(env or {})})


def _wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 30) -> list[str]:
    lines, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if needle in line:
            return lines
    process.kill()
    pytest.fail(f"`build.py serve` never printed {needle!r}: {''.join(lines)}")


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=15)
    return out


@pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="needs a built dist/ (build.py test builds it)")
def test_serve_prints_url_serves_and_stops_on_ctrl_c():
    port = _free_port()
    process = _start("--port", str(port))
    lines = _wait_for_line(process, "Ctrl-C")
    assert f"http://127.0.0.1:{port}/" in "".join(lines)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    out = _stop(process)
    assert process.returncode == 0, out
    assert "stopped" in out and "Traceback" not in out


@pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="needs a built dist/ (build.py test builds it)")
def test_serve_https_makes_a_certificate_and_warns(tmp_path):
    port = _free_port()
    process = _start("--https", "--port", str(port), env={"MOODCAM_CACHE": str(tmp_path)})
    text = "".join(_wait_for_line(process, "Ctrl-C"))
    assert "https://" in text and "self-signed" in text and "warn" in text
    assert list((tmp_path / "certs").glob("*.crt")), "no certificate was generated"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE      # self-signed on purpose
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/", timeout=10, context=context) as response:
        assert response.status == 200
    assert _stop(process) and process.returncode == 0


def test_serve_without_a_site_names_the_fix(tmp_path):
    process = _start("--dest", str(tmp_path / "nothing"), "--port", str(_free_port()))
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "no index.html" in out and "build.py site" in out
