"""Precompressed copies of the site's files: FILE.br (brotli) and FILE.gz (gzip) beside FILE.

`build.py serve` sends them with `Content-Encoding` to browsers that accept them; a static
host can do the same (docs/deploying.md). They are never listed in site.json: the browser
decodes them, so the service worker still sees, checks and caches the real file.

- Every file of at least MIN_SIZE bytes is tried, whatever its type; a copy is kept only
  when it is at least MIN_SAVING smaller than the file (wheels and python_stdlib.zip are
  zip files and gain 1.5-5 %, so they stay as they are). The gzip copy is tried first and
  is cheap: a file gzip cannot shrink by MIN_SAVING gets no brotli copy either.
- gzip: Python's zlib, level 9, mtime 0 and no file name, so the bytes depend only on the file.
- brotli: Node's zlib (Node is already needed for npm; Python has no brotli in its standard
  library), quality 11, window 2**24. Its output depends only on the file and Node's brotli
  version. Quality 11 is slow (about a minute for pyodide.asm.wasm on two cores), so each
  result is kept in the cache under the file's sha256 and that brotli version; a cached
  copy is used only after it decompresses to the file's exact bytes.
"""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError
from ..paths import cache_dir

MIN_SIZE = 1024
MIN_SAVING = 0.05
SUFFIXES = {"br": ".br", "gzip": ".gz"}
BROTLI_QUALITY = 11
BROTLI_WINDOW = 24

# Reads {"quality", "window", "cache", "jobs": [[src, dst], ...]} on stdin, writes each dst,
# prints the brotli version. Compressions run on libuv's thread pool, so they use every core.
NODE_BROTLI = r"""
"use strict";
const fs = require("fs"), path = require("path"), crypto = require("crypto"), zlib = require("zlib");
const { quality, window, cache, jobs } = JSON.parse(fs.readFileSync(0, "utf8"));
const C = zlib.constants;
const folder = path.join(cache, `brotli-${process.versions.brotli}-q${quality}-w${window}`);
fs.mkdirSync(folder, { recursive: true });
const compress = (data) => new Promise((resolve, reject) => zlib.brotliCompress(data, { params: {
  [C.BROTLI_PARAM_QUALITY]: quality, [C.BROTLI_PARAM_LGWIN]: window,
  [C.BROTLI_PARAM_SIZE_HINT]: data.length } }, (error, out) => error ? reject(error) : resolve(out)));
const decodes = (packed, data) => {
  try { return zlib.brotliDecompressSync(packed).equals(data); } catch { return false; }
};
async function one([src, dst]) {
  const data = fs.readFileSync(src);
  const cached = path.join(folder, crypto.createHash("sha256").update(data).digest("hex") + ".br");
  let packed = fs.existsSync(cached) ? fs.readFileSync(cached) : null;
  if (!packed || !decodes(packed, data)) {
    packed = await compress(data);
    if (!decodes(packed, data)) throw new Error(`brotli did not round-trip ${src}`);
    const partial = `${cached}.${process.pid}.partial`;
    fs.writeFileSync(partial, packed);
    fs.renameSync(partial, cached);
  }
  fs.writeFileSync(dst, packed);
}
Promise.all(jobs.map(one)).then(() => console.log(process.versions.brotli),
  (error) => { console.error(String(error && error.stack || error)); process.exit(1); });
"""


@dataclass(frozen=True)
class Compressed:
    """One file's sizes: raw, and its brotli and gzip copies (None where no copy is kept)."""

    path: str
    raw: int
    br: int | None
    gzip: int | None

    def best(self) -> int:
        """Bytes sent to a browser that accepts br and gzip (every current browser)."""
        return min(size for size in (self.raw, self.br, self.gzip) if size is not None)


def is_precompressed_copy(path: Path) -> bool:
    """True for FILE.br / FILE.gz beside an existing FILE (what precompress writes)."""
    return path.suffix in SUFFIXES.values() and path.with_suffix("").is_file()


def _worth_it(packed: int, raw: int) -> bool:
    return packed <= raw * (1 - MIN_SAVING)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise BuildError("node is not installed; the build needs it for npm and for the brotli copies",
                         expected="Node.js 20 with npm on PATH",
                         fix="install Node.js 20 (Debian: `apt-get install nodejs npm`) and run again")
    return node


def _brotli(jobs: list[tuple[Path, Path]], cache: Path) -> None:
    if not jobs:
        return
    request = {"quality": BROTLI_QUALITY, "window": BROTLI_WINDOW, "cache": str(cache),
               "jobs": [[str(src), str(dst)] for src, dst in jobs]}
    result = subprocess.run([_node(), "-e", NODE_BROTLI], input=json.dumps(request),
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-6:])
        raise BuildError(f"node could not write the brotli copies:\n{tail}",
                         expected="Node.js 20 (its zlib has brotli)",
                         fix=f"check the free disk space and that {cache} is writable, then run again")


def precompress(root: Path, *, cache: Path | None = None) -> list[Compressed]:
    """Write FILE.br and FILE.gz beside every file under `root` that they make meaningfully smaller."""
    root = Path(root)
    files = sorted(path for path in root.rglob("*") if path.is_file())
    for path in files:
        if is_precompressed_copy(path):
            raise BuildError(f"{path} would be taken for a compressed copy of {path.with_suffix('').name}",
                             fix="rename it: the site may not hold both FILE and FILE.br / FILE.gz")
    sizes: dict[Path, int] = {}
    gz_sizes: dict[Path, int] = {}
    brotli_jobs = []
    for path in files:
        data = path.read_bytes()
        sizes[path] = len(data)
        if len(data) < MIN_SIZE:
            continue
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if not _worth_it(len(packed), len(data)):
            continue
        path.with_name(path.name + SUFFIXES["gzip"]).write_bytes(packed)
        gz_sizes[path] = len(packed)
        brotli_jobs.append((path, path.with_name(path.name + SUFFIXES["br"])))
    _brotli(brotli_jobs, (cache or cache_dir()) / "compressed")
    report = []
    for path in files:
        br_path = path.with_name(path.name + SUFFIXES["br"])
        br = br_path.stat().st_size if br_path.is_file() else None
        if br is not None and not (_worth_it(br, sizes[path]) and br < gz_sizes[path]):
            br_path.unlink()
            br = None
        report.append(Compressed(path.relative_to(root).as_posix(), sizes[path], br, gz_sizes.get(path)))
    return report
