"""A static file server for dist/ with the headers the app needs.

- `application/wasm` so browsers can stream-compile Pyodide and TF.js wasm.
- COOP `same-origin` + COEP `require-corp` (+ CORP) so the page is
  cross-origin isolated and TF.js may use threaded wasm (SharedArrayBuffer).
- Caching: a file the build shipped byte for byte as its versioned release published
  it (site.json's "immutable": `pyodide.asm.wasm`, TF.js's files...) is `immutable`
  when served 200/304. Everything else is revalidated on every load (`no-cache`,
  answered with 304 when unchanged) so a rebuild is seen at once: the page, the app
  code, models, errors, and every file the build writes or rewrites even inside a
  versioned folder (`pyodide-lock.json`, `python_stdlib.zip`, the repacked wheels).
  A site without that list (no site.json) has nothing immutable.
- Paths: one that is not an absolute path, has `.` or `..` segments, is not UTF-8 once
  percent-decoded, or holds a control character or backslash (`/index.html%00.js`) is
  refused (400), never mapped to a file. No folder is listed: a folder without
  index.html is 404.
- Content-Security-Policy: every answer carries the policy of index.html's <meta> tag.
  A worker takes its policy from its own script's response, not from the page, so
  without the header app/worker.js (where every fetch happens) would have none.
- Precompressed copies (`build.py site` writes FILE.br / FILE.gz beside files they
  shrink): a GET or HEAD of FILE from a client whose Accept-Encoding allows it gets
  the copy's bytes with `Content-Encoding: br` (preferred) or `gzip`, FILE's own
  Content-Type and the copy's length; every answer for a FILE that has copies says
  `Vary: Accept-Encoding`. Range headers are ignored, as they always were here (the
  whole file, 200). The copies are not files of the site: asking for FILE.br or
  FILE.gz by name is answered 404.
- Connections: each gets its own thread, and the TLS handshake (`--https`)
  happens there too, so one idle or slow client never stalls the others. A
  client has 30 s in all, not per read, from connecting (or from the end of the
  last answer) to the last byte of its request's headers, and each answer must
  be sent within 300 s. At most 32 connections are served at once; 8 more get
  503 with Retry-After (after their request is read, under a 2 s deadline), and
  any beyond those are closed at once, so no client can make threads without end
  (site.connections).
- `--https`: a self-signed leaf certificate (CA:FALSE, serverAuth) for the
  address shown, remade when missing, broken, mismatched or near its end
  (site.certificates).

Used by `build.py serve` and by the browser tests, so tests exercise the same
headers a person gets.
"""
from __future__ import annotations

import contextlib
import datetime
import email.utils
import functools
import html.parser
import http.server
import io
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import threading
import urllib.parse
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..errors import BuildError
from .certificates import certificate_problem, self_signed_certificate  # noqa: F401 - serve's API too
from .compress import SUFFIXES, is_precompressed_copy
from .connections import REFUSE, Connection, Deadline, DeadlineReader, DeadlineWriter, Slots

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
IMMUTABLE = "public, max-age=31536000, immutable"
RETRY_AFTER_S = 2        # what a client over the connection cap is told to wait
REFUSAL_S = 2.0          # how long a client over the cap has to send the request it is refused


def has_dot_segments(url_path: str) -> bool:
    return any(segment in (".", "..") for segment in url_path.split("/"))


def path_problem(raw_path: str) -> str | None:
    """Why a request's raw path (as sent, query included) names no file we could serve; None if it may."""
    path = raw_path.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return "not an absolute path"
    try:
        decoded = urllib.parse.unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 once percent-decoded"
    if any(ord(char) < 32 or ord(char) == 127 for char in decoded):
        return "a control character (such as %00) in the path"
    if "\\" in decoded:
        return "a backslash in the path"
    if has_dot_segments(decoded):
        return "path with . or .. segments"
    return None


def is_immutable(url_path: str, immutable: frozenset[str]) -> bool:
    """True for a (decoded, query-less) URL path that names a file site.json lists as "immutable"."""
    if not url_path.startswith("/") or has_dot_segments(url_path) or "//" in url_path:
        return False
    return url_path[1:] in immutable


def immutable_paths(site_json: str | None) -> frozenset[str]:
    """site.json's "immutable" list (paths relative to the site root); empty when absent or unreadable."""
    try:
        listed = json.loads(site_json or "{}").get("immutable", [])
    except (ValueError, AttributeError):
        return frozenset()
    return frozenset(path for path in listed if isinstance(path, str)) if isinstance(listed, list) else frozenset()


class _MetaPolicyFinder(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.policy: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if (self.policy is None and tag == "meta"
                and values.get("http-equiv", "").lower() == "content-security-policy"):
            self.policy = " ".join(values.get("content", "").split()) or None


def meta_content_security_policy(page: str | None) -> str | None:
    """The policy of the first `<meta http-equiv="Content-Security-Policy">` in a page, whitespace folded."""
    finder = _MetaPolicyFinder()
    finder.feed(page or "")
    finder.close()
    return finder.policy


T = TypeVar("T")


class SiteDeclarations:
    """What the served site says about how to serve it, read again whenever its file changes
    (a rebuild swaps dist/ in place): site.json's "immutable" list, index.html's policy."""

    def __init__(self, root: Path):
        self._root = root
        self._cache: dict[str, tuple[tuple[int, int, int], Any]] = {}
        self._lock = threading.Lock()

    def _derived(self, name: str, parse: Callable[[str | None], T]) -> T:
        path = self._root / name
        try:
            stat = path.stat()
        except OSError:
            return parse(None)
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached[0] == key:
                return cached[1]
        try:
            text: str | None = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        value = parse(text)
        with self._lock:
            self._cache[name] = (key, value)
        return value

    def immutable(self) -> frozenset[str]:
        return self._derived("site.json", immutable_paths)

    def content_security_policy(self) -> str | None:
        return self._derived("index.html", meta_content_security_policy)


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

    def __init__(self, *args, connection: Connection | None = None, **kwargs):
        # SiteServer passes its connection's deadline; a handler made some other way gets its own.
        self._connection = connection or Connection(Deadline(30.0), over_capacity=False)
        self._requests_begun = 0
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        # Not StreamRequestHandler.setup: its socket files give each read the whole timeout again.
        self.connection = self.request
        self.rfile = io.BufferedReader(DeadlineReader(self.connection, self._connection.deadline))
        self.wfile = DeadlineWriter(self.connection, self._connection.deadline)

    def handle_one_request(self) -> None:
        # The first request shares the deadline that started at connect (and covered the TLS
        # handshake); each later one on a kept-alive connection gets the whole time again.
        if self._requests_begun:
            self._connection.deadline.restart(getattr(self.server, "connection_timeout", 30.0))
        self._requests_begun += 1
        super().handle_one_request()

    def parse_request(self) -> bool:
        self._vary = False   # per request: a kept-alive connection reuses this handler
        parsed = super().parse_request()
        if self._connection.over_capacity:   # read it (so closing sends no reset), then refuse it
            if parsed:
                self.send_error(503, "Busy", "The server is serving as many connections as it may: "
                                             f"retry in {RETRY_AFTER_S} s.")
            return False
        self._connection.deadline.restart(getattr(self.server, "response_timeout", 300.0))
        return parsed

    def send_head(self):
        problem = path_problem(self.path)
        if problem is not None:
            # Browsers resolve . and .. and encode what they send; anything else is refused, never mapped.
            self.send_error(400, problem)
            return None
        fs_path = self.translate_path(self.path)   # keeps a trailing slash
        if os.path.isdir(fs_path):
            if not os.path.isfile(os.path.join(fs_path, "index.html")):
                self.send_error(404, "File not found")   # no listing, and no redirect to one
                return None
            if self._url_path().endswith("/"):
                fs_path = os.path.join(fs_path, "index.html")
        if fs_path.endswith("/") or not os.path.isfile(fs_path):
            return super().send_head()   # the redirect to a folder's slash, 404 as before
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

    def list_directory(self, path):
        """Never a listing (send_head already answers 404 for a folder without index.html)."""
        self.send_error(404, "File not found")
        return None

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

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("X-Content-Type-Options", "nosniff")
        declarations: SiteDeclarations | None = getattr(self.server, "declarations", None)
        policy = declarations.content_security_policy() if declarations else None
        if policy:   # for the page, and for each worker, which takes its policy from its own script
            self.send_header("Content-Security-Policy", policy)
        if getattr(self, "_vary", False):
            self.send_header("Vary", "Accept-Encoding")
        status = getattr(self, "_status", None)
        if status == 503:
            self.send_header("Retry-After", str(RETRY_AFTER_S))
        immutable = declarations.immutable() if declarations else frozenset()
        if status in (200, 304) and is_immutable(self._url_path(), immutable):
            self.send_header("Cache-Control", IMMUTABLE)
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
    """One thread per connection, up to `max_connections` at once (site.connections.Slots). With
    `ssl_context`, the TLS handshake happens in that thread under the connection's deadline, never
    in accept(): a client that connects and says nothing (or speaks plain http to the https port)
    holds only its own thread, and only for a while."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str, port: int, *, quiet: bool = False,
                 ssl_context: ssl.SSLContext | None = None, connection_timeout: float = 30.0,
                 response_timeout: float = 300.0, max_connections: int = 32, max_refused: int = 8):
        if not (root / "index.html").is_file():
            raise BuildError(f"{root} holds no index.html, so there is no site to serve",
                             fix="run `python3 build.py site` first (or `build.py serve` without --no-build)")
        handler = functools.partial(SiteRequestHandler, directory=str(root))
        self.quiet = quiet
        self.ssl_context = ssl_context
        self.connection_timeout = connection_timeout   # connect (or last answer) to the request's last header
        self.response_timeout = response_timeout       # first to last byte of an answer
        self.slots = Slots(max_connections, max_refused)
        self.declarations = SiteDeclarations(Path(root))
        super().__init__((host, port), handler)

    def process_request(self, request, client_address) -> None:
        """ThreadingMixIn's, with a cap: over it, answered 503 while refusal slots last, else closed."""
        kind = self.slots.claim()
        if kind is None:
            self.shutdown_request(request)
            return
        threading.Thread(target=self._serve_connection, args=(request, client_address, kind),
                         name="moodcam-connection", daemon=True).start()

    def _serve_connection(self, request, client_address, kind: str) -> None:
        try:
            self.finish_request(request, client_address, over_capacity=kind == REFUSE)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self.slots.release(kind)

    def finish_request(self, request, client_address, *, over_capacity: bool = False) -> None:
        seconds = min(self.connection_timeout, REFUSAL_S) if over_capacity else self.connection_timeout
        connection = Connection(Deadline(seconds), over_capacity)
        make_handler: Any = self.RequestHandlerClass   # typeshed's type takes no `connection`
        request.settimeout(seconds)
        if self.ssl_context is None:
            make_handler(request, client_address, self, connection=connection)
            return
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)   # one call: bounded as a whole
        except (OSError, ssl.SSLError):   # idle, not TLS, or the certificate refused: drop this one only
            return
        try:
            make_handler(tls, client_address, self, connection=connection)
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
def serving(root: Path, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True, **options):
    """Serve `root` in a background thread for the duration of the block (tests); `options` as SiteServer's."""
    server = SiteServer(Path(root), host, port, quiet=quiet, **options)
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
