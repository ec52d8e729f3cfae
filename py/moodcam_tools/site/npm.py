"""Install the npm runtime files with `npm ci` (integrity-checked by package-lock.json)."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

from ..errors import BuildError

STAMP = ".moodcam-lock.sha256"


@contextlib.contextmanager
def _exclusive(repo: Path):
    """Serialise concurrent builds: two `npm ci` runs in one folder corrupt it."""
    with open(repo / ".npm-ci.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_node_modules(repo: Path) -> Path:
    """Run `npm ci` unless node_modules already matches package-lock.json."""
    with _exclusive(repo):
        return _ensure_node_modules(repo)


def _ensure_node_modules(repo: Path) -> Path:
    lock = repo / "package-lock.json"
    if not lock.is_file():
        raise BuildError("package-lock.json is missing, so npm packages cannot be installed reproducibly",
                         fix="restore it from git (`git checkout package-lock.json`)")
    node_modules = repo / "node_modules"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = node_modules / STAMP
    if stamp.is_file() and stamp.read_text().strip() == want:
        return node_modules
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm is not installed; it is needed to fetch Pyodide and TensorFlow.js",
                         expected="Node.js 20 with npm on PATH",
                         fix="install Node.js 20 (Debian: `apt-get install nodejs npm`) and run again")
    print("npm ci (Pyodide, TensorFlow.js; integrity-checked against package-lock.json)")
    result = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                            cwd=repo, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-12:])
        raise BuildError(f"`npm ci` failed:\n{tail}",
                         expected="every package in package-lock.json downloaded with a matching integrity hash",
                         fix="check the network to the npm registry; if an integrity check failed, "
                             "clear the npm cache (`npm cache clean --force`) and run again")
    stamp.write_text(want + "\n")
    return node_modules
