"""The offline build: verified Pyodide wheels, all-or-nothing dist, clear errors."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.fsutil import sha256_file, staged_directory
from moodcam_tools.site import assemble, npm, pyodide_dist
from moodcam_tools.site.wheel import build_wheel
from moodcam_tools.site.zips import same_members

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"


def _build(dest: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "build.py"), "site", "--dest", str(dest)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=REPO)


def test_moodcam_wheel_is_reproducible_and_holds_only_the_browser_package(tmp_path):
    first = build_wheel(REPO / "pyproject.toml", REPO / "py" / "moodcam", tmp_path / "a")
    second = build_wheel(REPO / "pyproject.toml", REPO / "py" / "moodcam", tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"moodcam", "moodcam-0.1.0.dist-info"}, top
    assert "moodcam/__init__.py" in names
    assert not any("__pycache__" in name for name in names)
    record = zipfile.ZipFile(first).read("moodcam-0.1.0.dist-info/RECORD").decode()
    assert "moodcam/__init__.py,sha256=" in record


def test_the_dist_wheel_carries_unchecked_hash_bytecode_for_every_module():
    site = json.loads((DIST / "site.json").read_text())
    with zipfile.ZipFile(DIST / site["wheel"]) as wheel:
        names = set(wheel.namelist())
        sources = [n for n in names if n.endswith(".py")]
        for source in sources:
            folder, module = source.rsplit("/", 1)
            pyc = f"{folder}/__pycache__/{module[:-3]}.cpython-312.pyc"
            assert pyc in names, pyc
            # PEP 552 flags: 0b01 hash-based, check_source bit unset
            assert int.from_bytes(wheel.read(pyc)[4:8], "little") == 0b01, pyc


PYC_HEADER = (3531).to_bytes(2, "little") + b"\r\n" + b"\x01\0\0\0"   # CPython 3.12's magic; PEP 552: unchecked hash


def test_numpy_ships_bytecode_for_what_its_import_loads():
    # Pyodide's numpy wheel carries sources only: the site's copy has, in each source's place, the
    # unchecked-hash pyc of every module `import numpy` loads (moodcam_tools.site.pyc, compiled by
    # the same Pyodide), and leaves out what only building against numpy needs.
    site = json.loads((DIST / "site.json").read_text())
    lock = json.loads((DIST / site["pyodide"] / "pyodide-lock.json").read_text())
    official = json.loads((REPO / "node_modules/pyodide/pyodide-lock.json").read_text())
    published = pyodide_dist.verified_runtime_wheel("numpy", official)
    with zipfile.ZipFile(published) as source, \
            zipfile.ZipFile(DIST / site["pyodide"] / lock["packages"]["numpy"]["file_name"]) as shipped:
        names = shipped.namelist()
        compiled = [n for n in names if n.endswith(".pyc")]
        assert 50 <= len(compiled) < 150, len(compiled)
        assert {"numpy/__init__.pyc", "numpy/linalg/linalg.pyc", "numpy/_core/multiarray.pyc"} <= set(compiled)
        assert "numpy/char/__init__.py" in names, "a module the import does not load keeps its source"
        build_only, build_only_under = assemble.BUILD_ONLY + assemble.TEST_ONLY, assemble.BUILD_ONLY_UNDER
        expected = [n[:-3] + ".pyc" if n[:-3] + ".pyc" in compiled else n
                    for n in source.namelist() if not n.endswith(build_only) and not n.startswith(build_only_under)]
        assert names == expected
        assert any(n.endswith(build_only) for n in source.namelist()), "the published wheel has build-only files"
        assert any(n.startswith("numpy/f2py/") for n in source.namelist()), "the published wheel has numpy.f2py"
        assert set(assemble.TEST_ONLY) <= set(source.namelist()), "each test-only module is in the published wheel"
        assert "numpy/_core/_multiarray_tests.cpython-312-wasm32-emscripten.so" in names, "numpy.testing imports it"
        record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
        record = {}
        for line in shipped.read(record_name).decode().splitlines():
            path, digest, size = line.rsplit(",", 2)
            record[path] = (digest, size)
        assert set(record) == {n for n in names if not n.endswith("/")}, "RECORD lists exactly the members"
        for name in names:
            data = shipped.read(name)
            if name.endswith(".pyc"):
                assert data[:8] == PYC_HEADER, name
            elif name != record_name:
                assert data == source.read(name), name
            if name != record_name and not name.endswith("/"):
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert record[name] == (f"sha256={digest}", str(len(data))), name


def test_dist_lock_lists_exactly_the_shipped_wheels_with_their_official_hashes():
    site = json.loads((DIST / "site.json").read_text())
    pyodide_dir = DIST / site["pyodide"]
    lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    official = json.loads((REPO / "node_modules/pyodide/pyodide-lock.json").read_text())
    assert set(lock["packages"]) == {"numpy", "micropip", "packaging"}
    wheels = {p.name for p in pyodide_dir.glob("*.whl")}
    assert wheels == {entry["file_name"] for entry in lock["packages"].values()}
    for name, entry in lock["packages"].items():
        # Shipped stored (moodcam_tools.site.zips): the published wheel's members, byte for byte
        # (numpy's start-up modules come as bytecode: the test above).
        assert entry["published_sha256"] == official["packages"][name]["sha256"]
        assert sha256_file(pyodide_dir / entry["file_name"]) == entry["sha256"]
        if name in assemble.BYTECODE_PACKAGES:
            continue
        published = pyodide_dist.verified_runtime_wheel(name, official).read_bytes()
        shipped = (pyodide_dir / entry["file_name"]).read_bytes()
        assert same_members(published, shipped) and len(shipped) > len(published)
    # python_stdlib.zip: the published members, except that each module a start imports comes as
    # its unchecked-hash pyc instead of its source (moodcam_tools.site.pyc.with_bytecode).
    with zipfile.ZipFile(REPO / "node_modules/pyodide/python_stdlib.zip") as published, \
            zipfile.ZipFile(pyodide_dir / "python_stdlib.zip") as shipped:
        names = shipped.namelist()
        compiled = [n for n in names if n.endswith(".pyc")]
        expected = [n[:-3] + ".pyc" if n[:-3] + ".pyc" in compiled else n for n in published.namelist()]
        assert names == expected
        for name in names:
            if name.endswith(".pyc"):
                header = shipped.read(name)[:8]
                assert header[:4] == (3531).to_bytes(2, "little") + b"\r\n" and header[4:8] == b"\x01\0\0\0", name
            else:
                assert shipped.read(name) == published.read(name), name
        assert len(compiled) >= 100, len(compiled)
        assert {"typing.pyc", "asyncio/__init__.pyc", "json/__init__.pyc", "dataclasses.pyc"} <= set(compiled)
        assert "pydoc.py" in names, "a module no start imports keeps its source"
    for rel, digest in site["files"].items():
        assert sha256_file(DIST / rel) == digest, rel
    # nothing for tests leaks into the deployable folder
    assert not list(DIST.rglob("pytest-*.whl"))
    assert (DIST / site["wheel"]).is_file()
    assert (DIST / "vendor/tfjs-4.22.0/tfjs-backend-wasm-simd.wasm").is_file()


def test_tampered_cached_wheel_is_refused_and_previous_dist_survives(tmp_path):
    cache = tmp_path / "cache"
    # Fill the real cache through the build's own code first: never rely on an earlier build or test.
    lock = pyodide_dist.load_official_lock(REPO / "node_modules")
    for name in pyodide_dist.RUNTIME_PACKAGES:
        pyodide_dist.verified_runtime_wheel(name, lock)
    real = pyodide_dist.wheel_cache()
    shutil.copytree(real, cache / real.name)
    numpy_wheel = next((cache / real.name).glob("numpy-*.whl"))
    data = bytearray(numpy_wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    numpy_wheel.write_bytes(bytes(data))

    dest = tmp_path / "dist"
    dest.mkdir()
    (dest / "index.html").write_text("previous build")
    result = _build(dest, {"MOODCAM_CACHE": str(cache)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert numpy_wheel.name in result.stderr
    assert "official Pyodide 0.27.7 pyodide-lock.json" in result.stderr
    assert "expected:" in result.stderr and "fix:" in result.stderr
    assert (dest / "index.html").read_text() == "previous build"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "dist"], "staging folder left behind"


def test_staged_directory_keeps_old_tree_on_failure(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with staged_directory(dest) as stage:
            (stage / "half.txt").write_text("new")
            raise RuntimeError("boom")
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]
    with staged_directory(dest) as stage:
        (stage / "new.txt").write_text("new")
    assert [p.name for p in dest.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_missing_npm_names_the_fix(tmp_path, monkeypatch):
    (tmp_path / "package-lock.json").write_text("{}")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BuildError) as error:
        npm.ensure_node_modules(tmp_path)
    assert "npm is not installed" in str(error.value)
    assert "Node.js 20" in str(error.value)


def test_failed_download_names_the_requirement(tmp_path):
    with pytest.raises(BuildError) as error:
        pyodide_dist.pip_download("moodcam-no-such-package-anywhere==0.0.1", tmp_path)
    assert "moodcam-no-such-package-anywhere==0.0.1" in str(error.value)
    assert "fix:" in str(error.value)
    assert not list(tmp_path.iterdir())
