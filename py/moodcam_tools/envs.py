"""The machine set-up that `build.py test` needs, done idempotently.

* Debian packages: chromium + chromium-driver (browser tests), ffmpeg (fake
  camera clips), openssl (`serve --https`). Installed with apt-get when run as
  root; otherwise the exact command is printed.
* `.venv`: the development environment, `pip install -e .[test,convert,train]`.
* `.venv-mediapipe`: MediaPipe's own Python package, used only as an
  independent reference in parity tests (it pins old numpy/protobuf, so it
  cannot share `.venv`).

Each virtual environment carries a stamp of what was installed into it; a
changed pyproject.toml or requirement list reinstalls, an unchanged one costs
nothing.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError
from .paths import REPO

DEBIAN_PACKAGES = {  # package -> a file it provides
    "chromium": "/usr/bin/chromium",
    "chromium-driver": "/usr/bin/chromedriver",
    "ffmpeg": "/usr/bin/ffmpeg",
    "openssl": "/usr/bin/openssl",
}


@dataclass(frozen=True)
class VirtualEnv:
    name: str
    path: Path
    requirements: tuple[str, ...]
    stamp_inputs: tuple[Path, ...] = ()

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def fingerprint(self) -> str:
        digest = hashlib.sha256("\n".join(self.requirements).encode())
        for path in self.stamp_inputs:
            digest.update(path.read_bytes())
        digest.update(sys.version.encode())
        return digest.hexdigest()


DEV_ENV = VirtualEnv("dev", REPO / ".venv", ("-e", f"{REPO}[test,convert,train]"), (REPO / "pyproject.toml",))
# MediaPipe 0.10.21 wants numpy<2; ai-edge-litert gives the raw TFLite outputs in the same env.
MEDIAPIPE_ENV = VirtualEnv("mediapipe", REPO / ".venv-mediapipe",
                           ("mediapipe==0.10.21", "ai-edge-litert==2.3.0", "numpy==1.26.4"))


def missing_debian_packages() -> list[str]:
    return [package for package, path in DEBIAN_PACKAGES.items() if not Path(path).exists()]


def ensure_debian_packages() -> None:
    missing = missing_debian_packages()
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BuildError(f"these Debian packages are missing: {' '.join(missing)}",
                         fix=f"run `sudo apt-get update && sudo {' '.join(command)}` and try again")
    print(f"installing Debian packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-qq"], command):
        result = subprocess.run(step, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"`{' '.join(step)}` failed:\n{result.stderr.strip()[-800:]}",
                             fix="check the network connection to the Debian mirror and run again")


def ensure_env(env: VirtualEnv) -> Path:
    """Create/update a virtual environment; return its python."""
    stamp = env.path / ".moodcam-stamp"
    want = env.fingerprint()
    if env.python.exists() and stamp.is_file() and stamp.read_text().strip() == want:
        return env.python
    if not env.python.exists():
        print(f"creating {env.path.name} ({env.name} environment)")
        result = subprocess.run([sys.executable, "-m", "venv", str(env.path)], capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"cannot create the virtual environment {env.path}: {result.stderr.strip()}",
                             fix="install the venv module (Debian: `apt-get install python3-venv`)")
    print(f"installing into {env.path.name}: {' '.join(env.requirements)}  (first time: a few minutes)")
    result = subprocess.run([str(env.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             *env.requirements], capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(line for line in result.stderr.strip().splitlines()
                         if not line.startswith("WARNING: Location"))[-1500:]
        raise BuildError(f"pip could not install the {env.name} environment:\n{tail}",
                         fix=f"check the network to the Python package index; delete {env.path} to start afresh")
    stamp.write_text(want + "\n")
    return env.python
