"""What the tests of moodcam's server share: TLS contexts for a self-signed certificate, a free
port, and `build.py serve` started, read and stopped as a person runs it."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moodcam_tools.site.serve import self_signed_certificate

REPO = Path(__file__).resolve().parents[2]


def write_site(root: Path, files: dict[str, str]) -> Path:
    """A small site for the server: each relative path with its text, under `root`."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def skip_https_without_openssl(https: bool) -> None:
    """The server's certificate is made with the openssl command: an https case skips without it."""
    if https and shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")


def server_context(tmp_path: Path) -> ssl.SSLContext:
    cert, key = self_signed_certificate(tmp_path / "certs", "127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE      # self-signed on purpose
    return context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ctrl_c_as_in_a_terminal() -> None:
    # A suite started in the background by a shell without job control (`(cmd &)`, nohup in a
    # script) inherits SIGINT *ignored*, and Python then never turns Ctrl-C into KeyboardInterrupt:
    # the server would be killed after 15 s and the test fail for how it was launched. A person's
    # Ctrl-C arrives with the default disposition; the child gets that back before it starts.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_serve(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`build.py serve --no-build ARGS` from the repository, its output merged and unbuffered."""
    return subprocess.Popen([sys.executable, "-u", str(REPO / "build.py"), "serve", "--no-build", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                            env={**os.environ, **(env or {})}, preexec_fn=_ctrl_c_as_in_a_terminal)


def wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 30) -> list[str]:
    """The lines printed up to the first that holds `needle`; the test fails (and the server is
    killed) where it never comes."""
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


def stop_serve(process: subprocess.Popen) -> str:
    """Ctrl-C, as a person stops it; the rest of its output. A server still up 15 s later is killed
    (its return code then says so) rather than left running after the test."""
    process.send_signal(signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out
