"""The server against hostile clients: a deadline for the whole request, a cap on connections,
malformed paths refused, no folder listed.

Real sockets on 127.0.0.1 against a small site in a temporary folder; every wait is bounded.
"""
from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from moodcam_tools.site.serve import serving

from .serve_helpers import client_context, server_context, skip_https_without_openssl, write_site


@pytest.fixture
def site(tmp_path) -> Path:
    return write_site(tmp_path / "site", {
        "index.html": "<html>moodcam</html>",
        "app/boot.js": "// boot",
        "docs/index.html": "<html>a folder with its own page</html>",
        "vendor/pyodide-0.27.7/pyodide.js": "// pyodide"})


def _port(server) -> int:
    return server.server_address[1]


def _get(server, raw_path: str, timeout: float = 5) -> tuple[int, dict, bytes]:
    """One GET with the path sent exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=timeout)
    try:
        conn.request("GET", raw_path)
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        conn.close()


def _client_socket(server, https: bool) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", _port(server)), timeout=5)
    return client_context().wrap_socket(sock) if https else sock


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed (or reset) the connection; never blocks."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return False
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        sock.settimeout(0.5)
        return sock.recv(1) == b""
    except (ssl.SSLWantReadError, TimeoutError):
        return False
    except OSError:        # reset
        return True


# --- one deadline for the whole request --------------------------------------------------------

@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_a_client_trickling_its_request_is_cut_off_at_the_deadline(site, tmp_path, https):
    """A byte every 0.2 s restarted a per-read timeout for ever; the deadline counts from connect."""
    skip_https_without_openssl(https)
    context = server_context(tmp_path) if https else None
    with serving(site, ssl_context=context, connection_timeout=1.0) as server:
        with contextlib.closing(_client_socket(server, https)) as sock:
            started = time.monotonic()
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            closed = False
            while not closed and time.monotonic() - started < 4:
                try:
                    sock.sendall(b"a")
                except OSError:
                    closed = True
                    break
                time.sleep(0.2)
                closed = _closed_by_server(sock)
            elapsed = time.monotonic() - started
        assert closed, f"still connected after {elapsed:.1f} s of a byte every 0.2 s (deadline 1 s)"
        assert elapsed < 2.5, elapsed


def test_each_request_on_a_kept_alive_connection_gets_the_whole_deadline(site):
    with serving(site, connection_timeout=1.0) as server:
        conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=5)
        try:
            for _ in range(3):        # 3 x 0.6 s: more than one deadline in all, less than one each
                time.sleep(0.6)
                conn.request("GET", "/app/boot.js")
                response = conn.getresponse()
                assert response.status == 200 and response.read() == b"// boot"
        finally:
            conn.close()


def test_a_client_that_stops_reading_the_answer_is_dropped(site):
    (site / "big.bin").write_bytes(b"\0" * (16 << 20))
    with serving(site, response_timeout=1.0) as server:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # before connect: a small window
        with contextlib.closing(sock):
            sock.settimeout(5)
            sock.connect(("127.0.0.1", _port(server)))
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            time.sleep(2.5)                                 # read nothing past the deadline
            received, started = 0, time.monotonic()
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(1 << 16):
                    received += len(chunk)
                    assert time.monotonic() - started < 5, "the server is still sending"
        assert received < 16 << 20
        assert _get(server, "/")[0] == 200


# --- a cap on connections -------------------------------------------------------------------

def _wait(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_connections_over_the_cap_get_503_and_no_thread_each(site):
    baseline = threading.active_count()
    with serving(site, max_connections=3, max_refused=1, connection_timeout=10) as server:
        idle = [socket.create_connection(("127.0.0.1", _port(server)), timeout=5) for _ in range(3)]
        try:
            assert _wait(lambda: threading.active_count() >= baseline + 1 + 3), "the 3 idle ones were not taken"
            status, headers, body = _get(server, "/")
            assert status == 503, status
            assert headers["Retry-After"] == "2"
            assert b"retry" in body.lower()

            # 30 more idle sockets: the cap holds the threads (3 served + 1 refusing + the server's own)
            idle += [socket.create_connection(("127.0.0.1", _port(server)), timeout=5) for _ in range(30)]
            time.sleep(0.5)
            assert threading.active_count() <= baseline + 1 + 3 + 1, threading.active_count() - baseline
            # those beyond even the refusal slot were closed at once
            assert _wait(lambda: sum(_closed_by_server(sock) for sock in idle[4:]) >= 28, 3)
        finally:
            for sock in idle:
                sock.close()
        assert _wait(lambda: _get(server, "/")[0] == 200), "the slots were not given back"


# --- malformed paths, folders ---------------------------------------------------------------

@pytest.mark.parametrize("raw_path", [
    "/index.html%00.js",      # a NUL raised ValueError inside the handler: no answer at all
    "/index.html%0a",         # a control character
    "/%ff",                   # not UTF-8 once decoded
    "/app%5cboot.js",         # a backslash
    "index.html",             # not an absolute path
    "/app/../index.html",     # dot segments, as before
])
def test_malformed_paths_are_answered_400(site, raw_path):
    with serving(site) as server:
        status, headers, _ = _get(server, raw_path)
        assert status == 400, raw_path
        assert headers["Cache-Control"] == "no-cache"
        assert _get(server, "/")[0] == 200


@pytest.mark.parametrize("raw_path", ["/app/", "/app", "/vendor/", "/vendor/pyodide-0.27.7/"])
def test_no_folder_is_listed(site, raw_path):
    with serving(site) as server:
        status, _, body = _get(server, raw_path)
        assert status == 404, raw_path
        assert b"boot.js" not in body and b"pyodide.js" not in body and b"Directory listing" not in body


def test_a_folder_with_its_own_page_still_serves_it(site):
    with serving(site) as server:
        assert _get(server, "/docs")[0] == 301
        status, _, body = _get(server, "/docs/")
        assert status == 200 and b"its own page" in body
