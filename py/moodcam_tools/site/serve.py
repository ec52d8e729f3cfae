"""A static file server for dist/ with the headers the app needs.

- `application/wasm` so browsers can stream-compile Pyodide and TF.js wasm.
- COOP `same-origin` + COEP `require-corp` (+ CORP) so the page is
  cross-origin isolated and TF.js may use threaded wasm (SharedArrayBuffer).
- Caching: a file served 200/304 from a folder whose name carries its version
  (`vendor/pyodide-0.27.7/`, `vendor/tfjs-4.22.0/`) is `immutable`, except
  what the build writes there itself (`pyodide-lock.json`, a moodcam wheel).
  Everything else (the page, the app code, the moodcam wheel, models, errors)
  is revalidated on every load (`no-cache`, answered with 304 when unchanged)
  so a rebuild is seen at once. A raw path with `.` or `..` segments is
  refused (400), never mapped to a file.
- Precompressed copies (`build.py site` writes FILE.br / FILE.gz beside files they
  shrink): a GET or HEAD of FILE from a client whose Accept-Encoding allows it gets
  the copy's bytes with `Content-Encoding: br` (preferred) or `gzip`, FILE's own
  Content-Type and the copy's length; every answer for a FILE that has copies says
  `Vary: Accept-Encoding`. Range headers are ignored, as they always were here (the
  whole file, 200). The copies are not files of the site: asking for FILE.br or
  FILE.gz by name is answered 404.
- Connections: each gets its own thread, and the TLS handshake (`--https`)
  happens there too, so one idle or slow client never stalls the others; a
  connection idle for 30 s is closed.
- `--https`: a self-signed leaf certificate (CA:FALSE, serverAuth) for the
  address shown, remade when missing, broken, mismatched or near its end.

Used by `build.py serve` and by the browser tests, so tests exercise the same
headers a person gets.
"""
from __future__ import annotations

import contextlib
import datetime
import email.utils
import functools
import http.server
import ipaddress
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import urllib.parse
from pathlib import Path

from ..errors import BuildError
from .compress import SUFFIXES, is_precompressed_copy

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


# A folder whose name carries its version (vendor/pyodide-0.27.7/, vendor/tfjs-4.22.0/): a file
# in it never changes under the same URL, except these, which the build writes itself.
VERSIONED_FILE = re.compile(r"^/vendor/[A-Za-z0-9_.+-]+-\d+(?:\.\d+)+/[^/]+$")
BUILT_FILES = re.compile(r"^(pyodide-lock\.json|moodcam-.*)$")


def has_dot_segments(url_path: str) -> bool:
    return any(segment in (".", "..") for segment in url_path.split("/"))


def is_immutable(url_path: str) -> bool:
    """True for a (decoded, query-less) URL path that names a file in a versioned vendor folder."""
    if has_dot_segments(url_path) or "//" in url_path or "\\" in url_path:
        return False
    return bool(VERSIONED_FILE.match(url_path)) and not BUILT_FILES.match(url_path.rsplit("/", 1)[-1])


def accepted_encodings(header: str | None) -> list[str]:
    """The content codings of SUFFIXES that an Accept-Encoding value allows, best first.

    A coding is allowed when named (or matched by `*`) with a q-value above 0; ties go to br.
    """
    weights: dict[str, float] = {}
    wildcard = None
    for item in (header or "").split(","):
        name, *params = [part.strip() for part in item.split(";")]
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        name = name.lower()
        if name == "*":
            wildcard = q
        elif name:
            weights[name] = q
    order = list(SUFFIXES)   # br before gzip
    chosen = [(weights.get(coding, wildcard if wildcard is not None else 0.0), -order.index(coding), coding)
              for coding in order]
    return [coding for q, _, coding in sorted(chosen, reverse=True) if q > 0]


class SiteRequestHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # An idle or slow client gets its own thread and, after this many seconds, is dropped. Set on
        # the socket here, not through the class-wide `timeout` that StreamRequestHandler.setup reads.
        timeout = getattr(self.server, "connection_timeout", None)
        if timeout is not None:
            self.connection.settimeout(timeout)

    def send_head(self):
        if has_dot_segments(self._url_path()):
            # Browsers resolve . and .. themselves; a raw one is refused, never mapped to a file.
            self.send_error(400, "path with . or .. segments")
            return None
        fs_path = self.translate_path(self.path)   # keeps a trailing slash
        if os.path.isdir(fs_path) and self._url_path().endswith("/"):
            fs_path = os.path.join(fs_path, "index.html")
        if fs_path.endswith("/") or not os.path.isfile(fs_path):
            return super().send_head()   # redirects, listings, 404 as before
        path = Path(fs_path)
        if is_precompressed_copy(path):
            self.send_error(404, "File not found")
            return None
        copies = {coding: path.with_name(path.name + suffix) for coding, suffix in SUFFIXES.items()}
        copies = {coding: copy for coding, copy in copies.items() if copy.is_file()}
        if not copies:
            return super().send_head()
        self._vary = True
        for coding in accepted_encodings(self.headers.get("Accept-Encoding")):
            if coding in copies:
                return self._send_copy(copies[coding], coding, self.guess_type(str(path)))
        return super().send_head()   # identity, with Vary

    def _send_copy(self, copy: Path, coding: str, ctype: str):
        """What SimpleHTTPRequestHandler.send_head does for a file, for a precompressed copy."""
        f = open(copy, "rb")
        try:
            fs = os.fstat(f.fileno())
            if self._not_modified_since(fs.st_mtime):
                self.send_response(304)
                self.end_headers()
                f.close()
                return None
            self.send_response(200)
            self.send_header("Content-type", ctype)
            self.send_header("Content-Encoding", coding)
            self.send_header("Content-Length", str(fs.st_size))
            self.send_header("Last-Modified", self.date_time_string(fs.st_mtime))
            self.end_headers()
            return f
        except BaseException:
            f.close()
            raise

    def _not_modified_since(self, mtime: float) -> bool:
        if "If-Modified-Since" not in self.headers or "If-None-Match" in self.headers:
            return False
        try:
            since = email.utils.parsedate_to_datetime(self.headers["If-Modified-Since"])
        except (TypeError, IndexError, OverflowError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=datetime.timezone.utc)
        if since.tzinfo is not datetime.timezone.utc:
            return False
        modified = datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).replace(microsecond=0)
        return modified <= since

    def parse_request(self) -> bool:
        self._vary = False   # per request: a kept-alive connection reuses this handler
        return super().parse_request()

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("X-Content-Type-Options", "nosniff")
        if getattr(self, "_vary", False):
            self.send_header("Vary", "Accept-Encoding")
        status = getattr(self, "_status", None)
        if status in (200, 304) and is_immutable(self._url_path()):
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def _url_path(self) -> str:
        return urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        if getattr(self.server, "quiet", False):
            return
        if format.startswith("Request timed out"):   # an idle keep-alive connection closed: not news
            return
        super().log_message(format, *args)


class SiteServer(http.server.ThreadingHTTPServer):
    """One thread per connection. With `ssl_context`, the TLS handshake happens in that thread
    under `connection_timeout`, never in accept(): a client that connects and says nothing
    (or speaks plain http to the https port) holds only its own thread, and only for a while."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str, port: int, *, quiet: bool = False,
                 ssl_context: ssl.SSLContext | None = None, connection_timeout: float = 30.0):
        if not (root / "index.html").is_file():
            raise BuildError(f"{root} holds no index.html, so there is no site to serve",
                             fix="run `python3 build.py site` first (or `build.py serve` without --no-build)")
        handler = functools.partial(SiteRequestHandler, directory=str(root))
        self.quiet = quiet
        self.ssl_context = ssl_context
        self.connection_timeout = connection_timeout
        super().__init__((host, port), handler)

    def finish_request(self, request, client_address) -> None:
        request.settimeout(self.connection_timeout)
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)   # handshake, under the timeout
        except (OSError, ssl.SSLError):   # idle, not TLS, or the certificate refused: drop this one only
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            self.shutdown_request(tls)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, (bytes, bytearray)):   # socketserver's address type allows bytes; ours is a str
            host = host.decode()
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}/"


@contextlib.contextmanager
def serving(root: Path, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True,
            ssl_context: ssl.SSLContext | None = None, connection_timeout: float = 30.0):
    """Serve `root` in a background thread for the duration of the block (tests)."""
    server = SiteServer(Path(root), host, port, quiet=quiet, ssl_context=ssl_context,
                        connection_timeout=connection_timeout)
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
    candidates: list[str] = []
    with contextlib.suppress(OSError):
        candidates += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
        candidates += out.split()
    for address in candidates:
        with contextlib.suppress(ValueError):
            ip = ipaddress.ip_address(address)
            if ip.version == 4 and ip.is_private and not ip.is_loopback:
                return address
    return "127.0.0.1"


CERT_DAYS = 30
RENEW_DAYS = 7   # a certificate closer than this to its end is replaced, so a session never sees it expire


def _openssl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], capture_output=True, text=True)


def _name_entry(address: str) -> str:
    """`IP:` for an address, `DNS:` for a name such as localhost (openssl refuses IP:localhost)."""
    try:
        return f"IP:{ipaddress.ip_address(address)}"
    except ValueError:
        return f"DNS:{address}"


def certificate_problem(cert: Path, key: Path, address: str) -> str | None:
    """Why the pair cannot be reused for `address` (None when it can)."""
    if not (cert.is_file() and key.is_file()):
        return "missing"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as error:
        return f"unreadable or mismatched ({error})"
    if _openssl("x509", "-in", str(cert), "-noout", "-checkend", str(RENEW_DAYS * 86400)).returncode != 0:
        return f"expired or expiring within {RENEW_DAYS} days"
    ext = _openssl("x509", "-in", str(cert), "-noout", "-ext",
                   "basicConstraints,extendedKeyUsage,subjectAltName").stdout
    if "CA:FALSE" not in ext or "TLS Web Server Authentication" not in ext:
        return "not a server certificate (CA:TRUE or no serverAuth)"
    entries = {part.strip() for line in ext.splitlines() for part in line.split(",")}
    if _name_entry(address).replace("IP:", "IP Address:") not in entries:
        return f"not issued for {address}"
    return None


def self_signed_certificate(cert_dir: Path, address: str) -> tuple[Path, Path]:
    """Create, or reuse when still sound, a self-signed server certificate for `address` with openssl.

    A pair is made afresh when either file is missing, unreadable or they do not match, when the
    certificate expires within RENEW_DAYS, or when it is not a leaf server certificate for `address`.
    """
    cert_dir.mkdir(parents=True, exist_ok=True)
    cert, key = cert_dir / f"moodcam-{address}.crt", cert_dir / f"moodcam-{address}.key"
    if shutil.which("openssl") is None:
        raise BuildError("`serve --https` needs the openssl command to make and check its certificate",
                         fix="install it (`apt-get install openssl`) or serve plain http on localhost")
    if certificate_problem(cert, key, address) is None:
        return cert, key
    names = ",".join(dict.fromkeys([_name_entry(address), "DNS:localhost", "IP:127.0.0.1"]))
    new_cert, new_key = cert.with_name(cert.name + ".new"), key.with_name(key.name + ".new")
    result = _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(CERT_DAYS),
                      "-subj", "/CN=moodcam local",
                      "-addext", f"subjectAltName={names}",
                      "-addext", "basicConstraints=critical,CA:FALSE",
                      "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
                      "-addext", "extendedKeyUsage=serverAuth",
                      "-keyout", str(new_key), "-out", str(new_cert))
    if result.returncode != 0 or certificate_problem(new_cert, new_key, address) is not None:
        new_cert.unlink(missing_ok=True)
        new_key.unlink(missing_ok=True)
        lines = [line for line in result.stderr.splitlines() if line.strip(".+*- \n")]   # no progress dots
        tail = "\n".join(lines[-3:])
        raise BuildError(f"openssl could not make a certificate for {address}" + (f":\n{tail}" if tail else ""),
                         fix="pass --host with an IP address or a plain host name")
    new_key.chmod(0o600)
    new_key.replace(key)
    new_cert.replace(cert)
    return cert, key


def serve_forever(root: Path, host: str, port: int, *, https: bool, cert_dir: Path) -> None:
    """Blocking server for `build.py serve`; Ctrl-C stops it cleanly."""
    shown_host = host
    if https:
        if host == "127.0.0.1":
            host = "0.0.0.0"
        shown_host = lan_address() if host == "0.0.0.0" else host
    context = None
    if https:
        cert, key = self_signed_certificate(cert_dir, shown_host)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    try:
        server = SiteServer(root, host, port, quiet=False, ssl_context=context)
    except OSError as error:
        raise BuildError(f"cannot listen on {host}:{port}: {error.strerror}",
                         fix="pick another port with --port, or stop the program using it") from None
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
