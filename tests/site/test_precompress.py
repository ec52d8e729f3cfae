"""Precompressed copies: written only where they pay, byte-identical on every build, and sent
by `build.py serve` with Content-Encoding to the clients that accept them.

These run on small sites made in a temporary folder (Node is needed for brotli, as for the build).
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.site import compress
from moodcam_tools.site.compress import precompress
from moodcam_tools.site.serve import accepted_encodings, serving

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="brotli copies are made with node")

SCRIPT = "".join(f"export const value{i} = compute({i}, 'label {i % 13}');\n" for i in range(1500)).encode()


def unbrotli(data: bytes) -> bytes:
    return subprocess.run(["node", "-e", "process.stdout.write(require('zlib').brotliDecompressSync("
                                         "require('fs').readFileSync(0)))"],
                          input=data, capture_output=True, check=True).stdout


def _make_site(root: Path) -> Path:
    noise = random.Random(13).randbytes(40_000)
    files = {
        "index.html": b"<!doctype html><title>moodcam</title>\n" + b"<p>hello</p>\n" * 200,
        "app/small.js": b"// small\n" * 50,                                  # under MIN_SIZE
        "vendor/lib-1.0/lib.js": SCRIPT,
        "vendor/lib-1.0/lib.wasm": b"\0asm\1\0\0\0" + SCRIPT,              # wasm-ish, compressible
        "models/weights.bin": noise,                                         # incompressible
        "vendor/lib-1.0/python_stdlib.zip": noise[:20_000],
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_copies_only_for_files_they_make_smaller_and_they_decode_to_the_file(tmp_path):
    root = _make_site(tmp_path / "site")
    report = {entry.path: entry for entry in precompress(root, cache=tmp_path / "cache")}
    copies = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix in (".br", ".gz"))
    assert copies == ["index.html.br", "index.html.gz",
                      "vendor/lib-1.0/lib.js.br", "vendor/lib-1.0/lib.js.gz",
                      "vendor/lib-1.0/lib.wasm.br", "vendor/lib-1.0/lib.wasm.gz"]
    for rel in ("index.html", "vendor/lib-1.0/lib.js", "vendor/lib-1.0/lib.wasm"):
        data = (root / rel).read_bytes()
        br, gz = (root / f"{rel}.br").read_bytes(), (root / f"{rel}.gz").read_bytes()
        assert unbrotli(br) == data and gzip.decompress(gz) == data, rel
        assert len(br) < len(gz) <= len(data) * (1 - compress.MIN_SAVING), rel
        assert gz[4:8] == b"\0\0\0\0" and not gz[3] & 0x08, "gzip header: mtime 0, no file name"
        assert (report[rel].raw, report[rel].br, report[rel].gzip) == (len(data), len(br), len(gz))
    assert report["models/weights.bin"].br is None and report["models/weights.bin"].gzip is None
    assert report["app/small.js"].best() == report["app/small.js"].raw


def test_two_builds_give_identical_bytes_with_or_without_the_cache(tmp_path):
    trees = []
    for name, cache in (("one", "cache-a"), ("two", "cache-b"), ("three", "cache-a")):   # cold, cold, warm
        root = _make_site(tmp_path / name)
        precompress(root, cache=tmp_path / cache)
        trees.append(_tree(root))
    assert trees[0] == trees[1] == trees[2]


def test_a_damaged_cache_entry_is_never_used(tmp_path):
    root = _make_site(tmp_path / "site")
    cache = tmp_path / "cache"
    precompress(root, cache=cache)
    good = (root / "vendor/lib-1.0/lib.js.br").read_bytes()
    entry = next((cache / "compressed").rglob(hashlib.sha256(SCRIPT).hexdigest() + ".br"))
    entry.write_bytes(good[: len(good) // 2])
    again = _make_site(tmp_path / "again")
    precompress(again, cache=cache)
    assert (again / "vendor/lib-1.0/lib.js.br").read_bytes() == good
    assert entry.read_bytes() == good, "the damaged entry is replaced"


def test_a_real_file_that_looks_like_a_copy_stops_the_build(tmp_path):
    root = _make_site(tmp_path / "site")
    (root / "vendor/lib-1.0/lib.js.gz").write_bytes(b"not ours")
    with pytest.raises(BuildError, match="compressed copy of lib.js"):
        precompress(root, cache=tmp_path / "cache")


@pytest.mark.parametrize(("header", "expected"), [
    (None, []),
    ("", []),
    ("identity", []),
    ("gzip, deflate, br, zstd", ["br", "gzip"]),
    ("gzip, deflate", ["gzip"]),
    ("br", ["br"]),
    ("BR;q=0.5, GZIP", ["gzip", "br"]),
    ("br;q=0, gzip", ["gzip"]),
    ("*", ["br", "gzip"]),
    ("*;q=0.1, gzip;q=0", ["br"]),
    ("gzip;q=bad, br", ["br"]),
])
def test_accept_encoding(header, expected):
    assert accepted_encodings(header) == expected


# --- the server -----------------------------------------------------------------------------

def _fetch(server, path: str, accept: str | None, method: str = "GET",
           extra: dict | None = None) -> tuple[int, dict, bytes]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        headers = {"Accept-Encoding": accept} if accept is not None else {}
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in {**headers, **(extra or {})}.items():
            conn.putheader(key, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture
def served(tmp_path):
    root = _make_site(tmp_path / "site")
    # What the build publishes as never rewritten (site.json "immutable"): the server caches only these for a year.
    (root / "site.json").write_text('{"immutable": ["vendor/lib-1.0/lib.wasm"]}')
    precompress(root, cache=tmp_path / "cache")
    with serving(root) as server:
        yield root, server


def test_server_sends_br_then_gzip_then_identity_with_the_file_type_and_length(served):
    root, server = served
    wasm = "/vendor/lib-1.0/lib.wasm"
    data = (root / wasm[1:]).read_bytes()
    for accept, coding, decode in (("gzip, deflate, br, zstd", "br", unbrotli),
                                   ("gzip, deflate", "gzip", gzip.decompress),
                                   (None, None, bytes), ("identity", None, bytes), ("br;q=0", None, bytes)):
        status, headers, body = _fetch(server, wasm, accept)
        assert status == 200, accept
        assert headers["content-type"] == "application/wasm", accept
        assert headers.get("content-encoding") == coding, accept
        assert headers["vary"] == "Accept-Encoding", accept
        assert int(headers["content-length"]) == len(body), accept
        assert decode(body) == data, accept
        # the hardening headers stay as they were
        assert headers["cross-origin-opener-policy"] == "same-origin"
        assert headers["cross-origin-embedder-policy"] == "require-corp"
        assert headers["cache-control"] == "public, max-age=31536000, immutable"

    status, headers, body = _fetch(server, wasm, "br", method="HEAD")
    assert (status, body, headers["content-encoding"]) == (200, b"", "br")
    assert int(headers["content-length"]) == (root / f"{wasm[1:]}.br").stat().st_size

    status, headers, body = _fetch(server, "/", "gzip")       # the page itself, through the index
    assert headers["content-encoding"] == "gzip" and headers["cache-control"] == "no-cache"
    assert headers["content-type"].startswith("text/html")
    assert gzip.decompress(body) == (root / "index.html").read_bytes()


def test_server_leaves_uncompressed_files_alone_and_hides_the_copies(served):
    root, server = served
    for path in ("/models/weights.bin", "/app/small.js"):
        status, headers, body = _fetch(server, path, "gzip, deflate, br")
        assert status == 200 and "content-encoding" not in headers and "vary" not in headers, path
        assert body == (root / path[1:]).read_bytes()
    for path in ("/vendor/lib-1.0/lib.js.br", "/vendor/lib-1.0/lib.js.gz", "/index.html.gz"):
        status, headers, _ = _fetch(server, path, "gzip, deflate, br")
        assert status == 404 and headers["cache-control"] == "no-cache", path


def test_range_is_ignored_and_revalidation_still_works(served):
    root, server = served
    status, headers, body = _fetch(server, "/vendor/lib-1.0/lib.js", "br", extra={"Range": "bytes=0-9"})
    assert status == 200 and headers["content-encoding"] == "br"
    assert unbrotli(body) == SCRIPT, "the whole file, never a slice of the compressed bytes"
    status, headers, body = _fetch(server, "/vendor/lib-1.0/lib.js", "br",
                                   extra={"If-Modified-Since": headers["last-modified"]})
    assert (status, body, headers["vary"]) == (304, b"", "Accept-Encoding")
    # a kept-alive connection: an uncompressed answer after a compressed one carries no Vary
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        for path, vary in (("/vendor/lib-1.0/lib.js", "Accept-Encoding"), ("/models/weights.bin", None)):
            conn.request("GET", path, headers={"Accept-Encoding": "br"})
            response = conn.getresponse()
            response.read()
            assert response.headers.get("Vary") == vary, path
    finally:
        conn.close()
