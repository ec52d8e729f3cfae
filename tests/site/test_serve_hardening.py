"""The server holds up: idle clients, caching headers only where they are true, sound certificates.
(Hostile clients, malformed paths and the connection cap: test_serve_clients.py.)

These run on a small site made in a temporary folder, so they need no built dist/.
"""
from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from moodcam_tools.site import serve
from moodcam_tools.site.serve import self_signed_certificate, serving

from .serve_helpers import (client_context, free_port, server_context, skip_https_without_openssl, start_serve,
                            stop_serve, wait_for_line, write_site)

IMMUTABLE = "public, max-age=31536000, immutable"
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture
def site(tmp_path) -> Path:
    root = write_site(tmp_path / "site", {
        "index.html": "<html>moodcam</html>",
        "app/boot.js": "// boot",
        "vendor/pyodide-0.27.7/pyodide.js": "// pyodide",
        "vendor/pyodide-0.27.7/pyodide-lock.json": "{}",
        "vendor/pyodide-0.27.7/moodcam-0.1.0-py3-none-any.whl": "PK",
        # rewritten by the build (stored, with bytecode): not as Pyodide published them
        "vendor/pyodide-0.27.7/python_stdlib.zip": "PK stored",
        "vendor/pyodide-0.27.7/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl": "PK stored",
        "vendor/tfjs-4.22.0/tf.min.js": "// tf",
        "vendor/unversioned.js": "// no version in the name"})
    # What `build.py site` writes: the files shipped as their release published them.
    (root / "site.json").write_text(json.dumps({"immutable": ["vendor/pyodide-0.27.7/pyodide.js",
                                                               "vendor/tfjs-4.22.0/tf.min.js"]}))
    return root


def _request(server_url: str, raw_path: str, *, context: ssl.SSLContext | None = None,
             headers: dict | None = None, timeout: float = 5) -> tuple[int, dict]:
    """One request with the path sent exactly as given (no client-side normalisation)."""
    host, port = server_url.split("//")[1].rstrip("/").rsplit(":", 1)
    if context is None:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    else:
        conn = http.client.HTTPSConnection(host, int(port), timeout=timeout, context=context)
    try:
        conn.request("GET", raw_path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status, dict(response.headers)
    finally:
        conn.close()


# --- an idle client never blocks the others ---------------------------------------------------

@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_idle_connection_does_not_block_a_real_request(site, tmp_path, https):
    """`build.py serve` as a person runs it, with a raw TCP client that connects and says nothing."""
    skip_https_without_openssl(https)
    port = free_port()
    args = ["--dest", str(site), "--port", str(port)] + (["--https"] if https else [])
    process = start_serve(*args, env={"MOODCAM_CACHE": str(tmp_path / "cache")})
    try:
        wait_for_line(process, "Ctrl-C")
        url = f"{'https' if https else 'http'}://127.0.0.1:{port}/"
        with socket.create_connection(("127.0.0.1", port), timeout=5):   # idle: no handshake, no request
            time.sleep(0.3)                                              # let the server accept it first
            started = time.monotonic()
            status, _ = _request(url, "/", context=client_context() if https else None, timeout=5)
            assert status == 200
            assert time.monotonic() - started < 3
    finally:
        stop_serve(process)


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_idle_connection_is_dropped_after_the_timeout(site, tmp_path, https):
    skip_https_without_openssl(https)
    context = server_context(tmp_path) if https else None
    with serving(site, ssl_context=context, connection_timeout=0.5) as server:
        port = server.server_address[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
            started = time.monotonic()
            assert idle.recv(1) == b""          # the server closed it
            assert time.monotonic() - started < 4
        status, _ = _request(server.url, "/", context=client_context() if https else None)
        assert status == 200


# --- caching headers: immutable only for files shipped as their versioned release published them ---

def test_versioned_files_are_immutable(site):
    with serving(site) as server:
        for path in ("/vendor/pyodide-0.27.7/pyodide.js", "/vendor/tfjs-4.22.0/tf.min.js",
                     "/vendor/tfjs-4.22.0/tf.min.js?v=1"):
            status, headers = _request(server.url, path)
            assert status == 200 and headers["Cache-Control"] == IMMUTABLE, path
        # revalidation of such a file keeps the same policy
        _, headers = _request(server.url, "/vendor/tfjs-4.22.0/tf.min.js")
        status, headers = _request(server.url, "/vendor/tfjs-4.22.0/tf.min.js",
                                   headers={"If-Modified-Since": headers["Last-Modified"]})
        assert status == 304 and headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("path,status", [
    ("/vendor/pyodide-0.27.7/missing.js", 404),           # an error is never cached for a year
    ("/vendor/no-such-1.0/x.js", 404),
    ("/vendor/../index.html", 400),                       # raw dot segments: refused, not cached
    ("/vendor/pyodide-0.27.7/../../index.html", 400),
    ("/vendor/%2e%2e/index.html", 400),
    ("/vendor/pyodide-0.27.7/pyodide-lock.json", 200),    # written by the build: may change in place
    ("/vendor/pyodide-0.27.7/moodcam-0.1.0-py3-none-any.whl", 200),   # rebuilt without a version bump
    ("/vendor/pyodide-0.27.7/python_stdlib.zip", 200),    # rewritten by the build, in a versioned folder
    ("/vendor/pyodide-0.27.7/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl", 200),
    ("/vendor/unversioned.js", 200),
    ("/vendor/pyodide-0.27.7/", 404),                     # a folder: never listed
    ("/", 200),
    ("/app/boot.js", 200),
])
def test_everything_else_is_revalidated(site, path, status):
    with serving(site) as server:
        got, headers = _request(server.url, path)
        assert got == status, path
        assert headers["Cache-Control"] == "no-cache", path
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_files_the_build_rewrites_stay_revalidated_on_304(site):
    """A browser without the service worker in control (?sw=0, plain http on a LAN) must see a
    rebuilt python_stdlib.zip or numpy wheel, or Pyodide's sha256 check fails on every reload."""
    with serving(site) as server:
        for path in ("/vendor/pyodide-0.27.7/python_stdlib.zip",
                     "/vendor/pyodide-0.27.7/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"):
            _, headers = _request(server.url, path)
            status, headers = _request(server.url, path, headers={"If-Modified-Since": headers["Last-Modified"]})
            assert status == 304 and headers["Cache-Control"] == "no-cache", path


def test_without_site_json_nothing_is_immutable(site):
    (site / "site.json").unlink()
    with serving(site) as server:
        status, headers = _request(server.url, "/vendor/pyodide-0.27.7/pyodide.js")
        assert status == 200 and headers["Cache-Control"] == "no-cache"


def test_dot_segments_never_reach_a_file(site):
    with serving(site) as server:
        status, _ = _request(server.url, "/app/../index.html")
        assert status == 400


# --- certificates ------------------------------------------------------------------------------

def _ext(cert: Path) -> str:
    return subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout


@needs_openssl
def test_certificate_for_a_host_name(tmp_path):
    cert, key = self_signed_certificate(tmp_path, "localhost")        # IP:localhost made openssl fail
    text = _ext(cert)
    assert "DNS:localhost" in text
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)


@needs_openssl
def test_certificate_is_a_server_leaf_not_a_ca(tmp_path):
    cert, _ = self_signed_certificate(tmp_path, "192.168.1.20")
    text = _ext(cert)
    assert "CA:FALSE" in text and "CA:TRUE" not in text
    assert "TLS Web Server Authentication" in text
    assert "IP Address:192.168.1.20" in text


@needs_openssl
@pytest.mark.parametrize("damage", ["garbage", "empty", "mismatched", "missing-key"])
def test_broken_pair_is_regenerated(tmp_path, damage):
    cert, key = self_signed_certificate(tmp_path, "127.0.0.1")
    if damage == "garbage":
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    elif damage == "empty":
        key.write_bytes(b"")
    elif damage == "mismatched":
        _, other_key = self_signed_certificate(tmp_path / "other", "127.0.0.1")
        key.write_bytes(other_key.read_bytes())
    else:
        key.unlink()
    cert2, key2 = self_signed_certificate(tmp_path, "127.0.0.1")
    assert (cert2, key2) == (cert, key)
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert2, key2)
    assert serve.certificate_problem(cert2, key2, "127.0.0.1") is None


def _openssl_pair(folder: Path, address: str, *extra: str, days: int = 30) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
                    "-subj", "/CN=old moodcam", *extra,
                    "-keyout", str(folder / f"moodcam-{address}.key"),
                    "-out", str(folder / f"moodcam-{address}.crt")], check=True, capture_output=True)


@needs_openssl
def test_expiring_certificate_is_replaced(tmp_path):
    _openssl_pair(tmp_path, "127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                  "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth",
                  days=1)
    cert, key = self_signed_certificate(tmp_path, "127.0.0.1")
    assert "old moodcam" not in _ext(cert)
    assert subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-checkend", str(20 * 86400)]).returncode == 0


@needs_openssl
def test_earlier_ca_certificate_is_replaced(tmp_path):
    """Certificates from earlier versions (CA:TRUE, openssl's default) are not reused."""
    _openssl_pair(tmp_path, "127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    assert "CA:TRUE" in _ext(tmp_path / "moodcam-127.0.0.1.crt")
    cert, _ = self_signed_certificate(tmp_path, "127.0.0.1")
    assert "CA:FALSE" in _ext(cert) and "old moodcam" not in _ext(cert)


@needs_openssl
def test_sound_certificate_is_reused(tmp_path):
    cert, _ = self_signed_certificate(tmp_path, "127.0.0.1")
    before = cert.read_bytes()
    cert2, _ = self_signed_certificate(tmp_path, "127.0.0.1")
    assert cert2.read_bytes() == before
