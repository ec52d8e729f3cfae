"""Build the `moodcam` browser package as a pure-Python wheel, byte for byte reproducible.

Why not `pyodide build`? pyodide-build for Python 3.11 stops at 0.25.1 and
downloads a cross-build environment even for pure-Python packages, which
cannot be fetched here. A `py3-none-any` wheel is exactly what micropip
installs, so we write one directly (PEP 427 layout, RECORD with sha256) with
fixed timestamps and sorted entries: the same sources give the same bytes,
which keeps the dist folder reproducible and cache-friendly.

Only `py/moodcam/` goes in: the offline tooling (`moodcam_tools`) never
reaches the browser.
"""
from __future__ import annotations

import base64
import hashlib
import re
import tomllib
import zipfile
from pathlib import Path
from typing import Callable

from ..errors import BuildError

FIXED_DATE = (2020, 1, 1, 0, 0, 0)
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis"}


def project_metadata(pyproject: Path) -> dict:
    project = tomllib.loads(pyproject.read_text())["project"]
    return {"name": project["name"], "version": project["version"],
            "summary": project.get("description", ""),
            "requires_python": project.get("requires-python", ""),
            "dependencies": project.get("dependencies", [])}


def wheel_name(meta: dict) -> str:
    return f"{meta['name']}-{meta['version']}-py3-none-any.whl"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def package_files(package_dir: Path) -> list[Path]:
    files = []
    for path in sorted(package_dir.rglob("*")):
        if not path.is_file() or EXCLUDED_PARTS.intersection(path.parts) or path.suffix in {".pyc", ".pyo"}:
            continue
        files.append(path)
    return files


def build_wheel(pyproject: Path, package_dir: Path, out_dir: Path,
                compile_pyc: Callable[[dict[str, bytes]], dict[str, bytes]] | None = None) -> Path:
    """Write dist-ready `moodcam-<version>-py3-none-any.whl` into `out_dir`.

    compile_pyc: {source arcname: source} -> {pyc arcname: bytecode} (moodcam_tools.site.pyc), whose
    results go into the wheel beside the sources; None: sources only."""
    if not (package_dir / "__init__.py").is_file():
        raise BuildError(f"{package_dir} is not a Python package (no __init__.py)",
                         fix="restore py/moodcam from git")
    meta = project_metadata(pyproject)
    dist_info = f"{meta['name']}-{meta['version']}.dist-info"
    entries: list[tuple[str, bytes]] = []
    for path in package_files(package_dir):
        arcname = f"{package_dir.name}/" + path.relative_to(package_dir).as_posix()
        entries.append((arcname, path.read_bytes()))
    if not any(name.endswith(".py") for name, _ in entries):
        raise BuildError(f"{package_dir} holds no Python files", fix="restore py/moodcam from git")
    if compile_pyc is not None:
        compiled = compile_pyc({name: data for name, data in entries if name.endswith(".py")})
        entries = sorted(entries + list(compiled.items()))

    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {meta['name']}",
        f"Version: {meta['version']}",
        f"Summary: {meta['summary']}",
    ]
    if meta["requires_python"]:
        metadata.append(f"Requires-Python: {meta['requires_python']}")
    metadata += [f"Requires-Dist: {dep}" for dep in meta["dependencies"]]
    entries.append((f"{dist_info}/METADATA", ("\n".join(metadata) + "\n").encode()))
    entries.append((f"{dist_info}/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: moodcam_tools.site.wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ).encode()))
    entries.append((f"{dist_info}/top_level.txt", f"{package_dir.name}\n".encode()))
    record_lines = [f"{name},{_record_hash(data)},{len(data)}" for name, data in entries]
    record_lines.append(f"{dist_info}/RECORD,,")
    entries.append((f"{dist_info}/RECORD", ("\n".join(record_lines) + "\n").encode()))

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel_name(meta)
    if not re.fullmatch(r"[A-Za-z0-9_.]+-[0-9][A-Za-z0-9_.]*-py3-none-any\.whl", target.name):
        raise BuildError(f"{target.name} is not a valid wheel file name",
                         fix="check [project] name and version in pyproject.toml")
    # Stored, not deflated (as site.zips does for Pyodide's): brotli over the whole wheel sends
    # it in about 60 % of the bytes of a deflated one, and unpacking it inflates nothing.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data)
    return target
