"""A static file server for dist/ with the headers the app needs.

- `application/wasm` so browsers can stream-compile Pyodide and TF.js wasm.
- COOP `same-origin` + COEP `require-corp` (+ CORP) so the page is
  cross-origin isolated and TF.js may use threaded wasm (SharedArrayBuffer).
- Caching: everything under `vendor/` sits in a versioned folder
  (`vendor/pyodide-0.27.7/`), so it is `immutable`; the page, the app code,
  the moodcam wheel and models are revalidated on every load (`no-cache`,
  answered with 304 when unchanged) so a rebuild is seen at once.

Used by `build.py serve` and by the browser tests, so tests exercise the same
headers a person gets.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import ipaddress
import mimetypes
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

from ..errors import BuildError

EXTRA_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".bin": "application/octet-stream",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
}


class SiteRequestHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}
    protocol_version = "HTTP/1.1"

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.path.startswith("/vendor/"):
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        if getattr(self.server, "quiet", False):
            return
        super().log_message(format, *args)


class SiteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str, port: int, *, quiet: bool = False):
        if not (root / "index.html").is_file():
            raise BuildError(f"{root} holds no index.html, so there is no site to serve",
                             fix="run `python3 build.py site` first (or `build.py serve` without --no-build)")
        handler = functools.partial(SiteRequestHandler, directory=str(root))
        self.quiet = quiet
        super().__init__((host, port), handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://{host}:{port}/"


@contextlib.contextmanager
def serving(root: Path, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True):
    """Serve `root` in a background thread for the duration of the block (tests)."""
    server = SiteServer(Path(root), host, port, quiet=quiet)
    thread = threading.Thread(target=server.serve_forever, name="moodcam-site", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def lan_address() -> str:
    """This machine's address on the local network, for phones to reach (no packet is sent)."""
    candidates = []
    with contextlib.suppress(OSError):
        candidates += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
        candidates += out.split()
    for address in candidates:
        with contextlib.suppress(ValueError):
            ip = ipaddress.ip_address(address)
            if ip.version == 4 and ip.is_private and not ip.is_loopback:
                return address
    return "127.0.0.1"


def self_signed_certificate(cert_dir: Path, address: str) -> tuple[Path, Path]:
    """Create (or reuse) a self-signed certificate for `address` with openssl."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    cert, key = cert_dir / f"moodcam-{address}.crt", cert_dir / f"moodcam-{address}.key"
    if cert.exists() and key.exists():
        return cert, key
    if shutil.which("openssl") is None:
        raise BuildError("`serve --https` needs the openssl command to make a certificate",
                         fix="install it (`apt-get install openssl`) or serve plain http on localhost")
    san = f"subjectAltName=IP:{address},DNS:localhost,IP:127.0.0.1"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=moodcam local", "-addext", san,
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def serve_forever(root: Path, host: str, port: int, *, https: bool, cert_dir: Path) -> None:
    """Blocking server for `build.py serve`; Ctrl-C stops it cleanly."""
    shown_host = host
    if https:
        if host == "127.0.0.1":
            host = "0.0.0.0"
        shown_host = lan_address() if host == "0.0.0.0" else host
    try:
        server = SiteServer(root, host, port, quiet=False)
    except OSError as error:
        raise BuildError(f"cannot listen on {host}:{port}: {error.strerror}",
                         fix="pick another port with --port, or stop the program using it") from None
    if https:
        cert, key = self_signed_certificate(cert_dir, shown_host)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    scheme = "https" if https else "http"
    print(f"moodcam is served from {root}")
    print(f"  open {scheme}://{shown_host}:{server.server_address[1]}/")
    if https:
        print("  the certificate is self-signed: the browser will warn once; accept it to continue")
        print("  (phones on the same network can open the address above; the camera needs https there)")
    print("  press Ctrl-C to stop")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped")
    finally:
        server.server_close()
