"""`build.py site`: assemble the static folder that any static host can serve.

    dist/
      index.html, app/            the page and its thin JS/CSS (copied as is), and the web app
                                  manifest with its icons (app/icons/, drawn by icons.py)
      sw.js                       app/sw.js at the root, so its scope covers the page, with the
                                  site version written in (its cache is named after it)
      site.json                   versions, entry paths, the sha256 of every file, site_version,
                                  and which files may be cached as immutable (published_as_is)
      vendor/pyodide-0.27.7/      Pyodide core + verified wheels + a lock of exactly those; numpy's
                                  and the standard library's start-up modules as bytecode (pyc.py)
      vendor/tfjs-4.22.0/         TF.js and its wasm backend (+ .wasm binaries)
      wheels/moodcam-*.whl        the moodcam package (with bytecode), unpacked by app/engine.js
      models/                     the TF.js graph models, each file checked against manifest.json
      **/FILE.br, **/FILE.gz      precompressed copies of the files they make smaller (compress.py);
                                  not listed in site.json, which lists the real files only

Everything is written to a staging folder beside the destination and swapped
in only when complete, so a failed build leaves the previous dist/ intact.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import zipfile
from collections import Counter
from pathlib import Path

from ..errors import BuildError
from ..fsutil import sha256_file, staged_directory
from ..paths import REPO
from .compress import Compressed, precompress
from .icons import write_icons
from .npm import ensure_node_modules
from .pyodide_dist import (CORE_FILES, PYODIDE_VERSION, TEST_WHEELS, assemble_pyodide, load_official_lock,
                           replace_wheel)
from .pyc import compile_sources, package_import_bytecode, stdlib_start_bytecode, with_bytecode
from .wheel import build_wheel, project_metadata

TFJS_VERSION = "4.22.0"
TFJS_FILES = {
    "@tensorflow/tfjs/dist/tf.es2017.min.js": "tf.es2017.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js": "tf-backend-wasm.es2017.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm": "tfjs-backend-wasm.wasm",
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm": "tfjs-backend-wasm-simd.wasm",
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm":
        "tfjs-backend-wasm-threaded-simd.wasm",
}
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store")


def _copy_tfjs(node_modules: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for package in ("@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"):
        manifest = node_modules / package / "package.json"
        version = json.loads(manifest.read_text()).get("version") if manifest.is_file() else None
        if version != TFJS_VERSION:
            raise BuildError(f"{package} in node_modules is version {version}", expected=TFJS_VERSION,
                             fix="restore package.json/package-lock.json from git and run the build again")
    for source, name in TFJS_FILES.items():
        path = node_modules / source
        if not path.is_file():
            raise BuildError(f"{path} is missing", fix="delete node_modules and run the build again")
        shutil.copyfile(path, out / name)


def _copy_models(models: Path, out: Path) -> None:
    """Copy models/, refusing any file whose sha256 or size disagrees with manifest.json."""
    manifest_path = models / "manifest.json"
    if not manifest_path.is_file():
        raise BuildError(f"{manifest_path} is missing, so the page would have no models",
                         fix="restore models/ from git, or regenerate it with `python3 build.py models`")
    manifest = json.loads(manifest_path.read_text())
    listed = set()
    for name, model in manifest.get("models", {}).items():
        for entry in model.get("files", []):
            rel = entry["path"]
            path = models / rel
            listed.add(rel)
            if not path.is_file():
                raise BuildError(f"model file {path} (model {name}) is missing",
                                 fix="restore models/ from git, or regenerate it with `python3 build.py models`")
            got = sha256_file(path)
            if got != entry["sha256"]:
                raise BuildError(f"model file {path} has sha256 {got}, not the one in models/manifest.json",
                                 expected=entry["sha256"],
                                 fix="restore models/ from git, or regenerate it with `python3 build.py models`")
    shutil.copytree(models, out, ignore=IGNORED)


def _site_files(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): sha256_file(path)
            for path in sorted(root.rglob("*")) if path.is_file()}


SW_VERSION_LINE = re.compile(r'^const VERSION = "[^"]*";', re.MULTILINE)


def site_version(files: dict[str, str]) -> str:
    """A short hash of every file's path and sha256: any change to any file changes it."""
    listing = "".join(f"{path}\t{digest}\n" for path, digest in sorted(files.items()))
    return hashlib.sha256(listing.encode()).hexdigest()[:16]


def stamp_service_worker(path: Path, version: str) -> None:
    """Write `version` into sw.js's `const VERSION = "...";` line (exactly one)."""
    text = path.read_text()
    stamped, count = SW_VERSION_LINE.subn(f'const VERSION = "{version}";', text)
    if count != 1:
        raise BuildError(f"{path} has {count} `const VERSION = \"...\";` lines, so the site version "
                         "cannot be written into it", expected="exactly one, at the top level",
                         fix="restore app/sw.js from git")
    path.write_text(stamped)


# The models the default view loads at start (py/moodcam/browser/modes.py: DETECTORS["near"], and
# DETECTORS["far"] for the default auto range, and EMOTION; tests/site checks the two agree). Every other model, the model cards and the Pyodide
# packages moodcam does not load are "on demand": the service worker caches them on first use
# instead of on the first visit (app/sw.js).
START_MODELS = ("blazeface_short_range", "blazeface_full_range", "emotion_mini_xception")


def on_demand_files(files: dict[str, str], pyodide_dir: str) -> list[str]:
    """site.json's "on_demand": files a first start never fetches, sorted."""
    def needed_at_start(path: str) -> bool:
        if path.startswith("models/"):
            parts = path.split("/")
            return path == "models/manifest.json" or (
                len(parts) == 3 and parts[1] in START_MODELS and not parts[2].endswith(".md"))
        if path.startswith(pyodide_dir):
            name = path[len(pyodide_dir):]
            return not (name.endswith(".whl") and not name.startswith("numpy-")) and name != "pyodide.mjs"
        return True
    return sorted(path for path in files if not needed_at_start(path))


def published_sha256s(node_modules: Path, pyodide_dir: str, tfjs_dir: str) -> dict[str, str]:
    """The sha256 of each file as its release publishes it, by the site path it ships under:
    Pyodide's runtime files (npm), the wheels of the official lock, the pinned test wheels,
    TF.js's files (npm)."""
    published = {pyodide_dir + name: sha256_file(node_modules / "pyodide" / name) for name in CORE_FILES}
    for entry in load_official_lock(node_modules)["packages"].values():
        published[pyodide_dir + entry["file_name"]] = entry["sha256"]
    for wheel in TEST_WHEELS:
        published[pyodide_dir + wheel.file_name] = wheel.sha256
    for source, name in TFJS_FILES.items():
        published[tfjs_dir + name] = sha256_file(node_modules / source)
    return published


def published_as_is(files: dict[str, str], published: dict[str, str]) -> list[str]:
    """site.json's "immutable": the files shipped byte for byte as their release published them,
    sorted. Only these never change under their URL (their folder names carry the release's
    version); a file the build writes or rewrites (the lock, python_stdlib.zip and the wheels
    repacked stored, numpy's with bytecode) may change with any build, so it is revalidated."""
    return sorted(path for path, sha256 in files.items() if published.get(path) == sha256)


# Pyodide packages shipped with their start-up imports as bytecode (site.pyc).
BYTECODE_PACKAGES = ("numpy",)
# Members of those wheels that nothing loads at run time: type stubs, C headers, static libraries
# and Cython sources, for building against numpy (numpy: 129 members, 1.19 MB, 0.18 MB as brotli).
BUILD_ONLY = (".pyi", ".h", ".a", ".pxd", ".pyx", ".c", "py.typed")
# Whole folders of those wheels that only build or package: numpy.f2py wraps Fortran and C into
# extension modules with a compiler, which a browser has none of (0.49 MB, 0.086 MB as brotli);
# pkg-config files, PyInstaller hooks and random's Cython/cffi/numba build examples (12 KB).
BUILD_ONLY_UNDER = ("numpy/f2py/", "numpy/_core/lib/", "numpy/_pyinstaller/", "numpy/random/_examples/")
# Extension modules only numpy's own test suite imports (Pyodide's wheel already leaves the suite
# out; numpy.testing needs only _multiarray_tests, which stays): 56 KB of wasm.
TEST_ONLY = tuple(f"numpy/_core/{name}.cpython-312-wasm32-emscripten.so"
                  for name in ("_operand_flag_tests", "_rational_tests", "_struct_ufunc_tests", "_umath_tests", "_simd"))


def _compile_package_starts(pyodide_dir: Path) -> None:
    """Each of BYTECODE_PACKAGES' wheels with the unchecked-hash pyc of every module its import
    loads in its source's place, and its BUILD_ONLY, BUILD_ONLY_UNDER and TEST_ONLY members left
    out (site.pyc.with_bytecode);
    the shipped lock lists the new sha256. Pyodide's wheels carry sources only, so every visit
    compiled numpy's 79 start-up modules again."""
    lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    for name in BYTECODE_PACKAGES:
        wheel = pyodide_dir / lock["packages"][name]["file_name"]
        compiled = package_import_bytecode(pyodide_dir, name)
        replace_wheel(pyodide_dir, name, with_bytecode(wheel.read_bytes(), compiled, leave_out=BUILD_ONLY + TEST_ONLY,
                                                             leave_out_under=BUILD_ONLY_UNDER))


def _compile_start_stdlib(pyodide_dir: Path, wheel: Path) -> None:
    """python_stdlib.zip with bytecode for the standard-library modules a start imports (site.pyc):
    Pyodide's start-up, numpy's import and every moodcam module's."""
    with zipfile.ZipFile(wheel) as archive:
        modules = sorted(name[:-3].replace("/", ".").removesuffix(".__init__")
                         for name in archive.namelist() if name.endswith(".py"))
    stdlib = pyodide_dir / "python_stdlib.zip"
    compiled = stdlib_start_bytecode(pyodide_dir, list(BYTECODE_PACKAGES), wheel, list(BYTECODE_PACKAGES) + modules)
    stdlib.write_bytes(with_bytecode(stdlib.read_bytes(), compiled))


def _lock_file_name(pyodide_dir: Path, package: str) -> str:
    """The wheel the shipped Pyodide lock names for `package` (after _compile_package_starts)."""
    lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    return lock["packages"][package]["file_name"]


def build_site(dest: Path, *, with_test_wheels: bool = False, repo: Path = REPO, quiet: bool = False) -> Path:
    started = time.monotonic()
    for required in ("index.html", "app"):
        if not (repo / required).exists():
            raise BuildError(f"{repo / required} is missing", fix="restore it from git")
    node_modules = ensure_node_modules(repo)
    meta = project_metadata(repo / "pyproject.toml")
    pyodide_dir = f"vendor/pyodide-{PYODIDE_VERSION}/"
    tfjs_dir = f"vendor/tfjs-{TFJS_VERSION}/"
    with staged_directory(dest) as stage:
        shutil.copyfile(repo / "index.html", stage / "index.html")
        # sw.js goes to the root only (an unstamped copy under app/ would be a second, stale worker).
        shutil.copytree(repo / "app", stage / "app",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store", "sw.js"))
        if (stage / "app" / "manifest.webmanifest").is_file():
            write_icons(stage / "app" / "manifest.webmanifest")   # listed in site.json: precached
        has_sw = (repo / "app" / "sw.js").is_file()
        if has_sw:
            shutil.copyfile(repo / "app" / "sw.js", stage / "sw.js")
        packages = assemble_pyodide(node_modules, stage / pyodide_dir, with_test_wheels=with_test_wheels)
        _compile_package_starts(stage / pyodide_dir)
        _copy_tfjs(node_modules, stage / tfjs_dir)
        # With bytecode from Pyodide's own interpreter: a start imports, it does not compile (site.pyc).
        wheel = build_wheel(repo / "pyproject.toml", repo / "py" / "moodcam", stage / "wheels",
                            compile_pyc=lambda sources: compile_sources(sources, node_modules))
        _compile_start_stdlib(stage / pyodide_dir, wheel)
        if with_test_wheels:
            # pytest-pyodide serves only the Pyodide folder: put the wheel where it can reach it.
            shutil.copyfile(wheel, stage / pyodide_dir / wheel.name)
        _copy_models(repo / "models", stage / "models")
        files = _site_files(stage)
        version = site_version(files)   # covers sw.js as written in app/, before stamping
        if has_sw:
            stamp_service_worker(stage / "sw.js", version)
            files["sw.js"] = sha256_file(stage / "sw.js")
        site = {
            "version": meta["version"],
            "site_version": version,
            "pyodide": pyodide_dir,
            "pyodide_packages": packages,
            "tfjs": tfjs_dir,
            "wheel": f"wheels/{wheel.name}",
            # The engine installs numpy from this wheel itself (app/engine.js, installNumpy).
            "numpy_wheel": pyodide_dir + _lock_file_name(stage / pyodide_dir, "numpy"),
            "models": "models/",
            "files": files,
            "on_demand": on_demand_files(files, pyodide_dir),
            "immutable": published_as_is(files, published_sha256s(node_modules, pyodide_dir, tfjs_dir)),
        }
        (stage / "site.json").write_text(json.dumps(site, indent=1, sort_keys=True) + "\n")
        # Last, so site.json and the stamped sw.js get copies too.
        compressed = precompress(stage)
    if not quiet:
        _print_summary(dest, time.monotonic() - started, compressed)
    return dest


def _print_summary(dest: Path, seconds: float, compressed: list[Compressed]) -> None:
    sizes: Counter[str] = Counter()
    for entry in compressed:
        sizes[Path(entry.path).suffix or Path(entry.path).name] += entry.raw
    raw = sum(entry.raw for entry in compressed)
    wire = sum(entry.best() for entry in compressed)
    copies = sum(1 for entry in compressed for size in (entry.br, entry.gzip) if size is not None)
    print(f"built {dest} in {seconds:.1f} s: {raw / 1e6:.1f} MB, {wire / 1e6:.1f} MB as sent to a browser "
          f"that accepts brotli ({copies} precompressed copies beside the files)")
    for suffix, size in sizes.most_common(6):
        print(f"  {suffix:>8} {size / 1e6:7.2f} MB")
