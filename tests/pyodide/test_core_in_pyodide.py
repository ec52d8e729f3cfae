"""Tier 2: the core test-suite and a numeric fingerprint, run inside Pyodide.

pytest-pyodide serves the test dist's Pyodide folder (`--dist-dir`, built by
`build.py test` with the pinned pytest/hypothesis wheels) and drives Debian
Chromium through Selenium. We install the very moodcam wheel the page ships,
with micropip, copy `tests/core/` (and `models/manifest.json`, which
tests/core/test_manifest_typed.py reads, at the same place relative to it)
into Pyodide's file system, run pytest there, and compare with CPython: the same tests must pass in both, and the
fingerprint (the core's outputs on fixed inputs) must be identical.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pyodide import fingerprint

REPO = Path(__file__).resolve().parents[2]
CORE_TESTS = REPO / "tests" / "core"

pytestmark = pytest.mark.browser


def _wheel_url_name(dist_dir: Path) -> str:
    wheels = sorted(dist_dir.glob("moodcam-*-py3-none-any.whl"))
    assert wheels, f"no moodcam wheel in {dist_dir}: build it with `build.py site --with-test-wheels`"
    return wheels[-1].name


def _install_moodcam(selenium, dist_dir: Path) -> None:
    name = _wheel_url_name(dist_dir)
    selenium.load_package(["micropip", "numpy", "pytest", "hypothesis"])
    selenium.run_async(f"""
        import micropip
        await micropip.install("{selenium.base_url}/{name}")
        import moodcam
    """)


def _cpython_outcomes() -> dict[str, str]:
    """Run tests/core in a CPython subprocess and return {test id: outcome}."""
    report = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:pytest_pyodide",
         "-o", "addopts=", str(CORE_TESTS), "--rootdir", str(CORE_TESTS),
         "-p", "tests.pyodide.outcomes"],
        capture_output=True, text=True, cwd=REPO)
    marker = [line for line in report.stdout.splitlines() if line.startswith("OUTCOMES ")]
    assert marker, f"CPython run of tests/core printed no outcomes:\n{report.stdout[-3000:]}\n{report.stderr[-2000:]}"
    return json.loads(marker[-1][len("OUTCOMES "):])


# The whole core suite in one script call: far past Selenium's default script timeout on 2 shared cores.
@pytest.mark.driver_timeout(300)
def test_core_suite_passes_identically_in_pyodide(selenium, request):
    dist_dir = Path(request.config.getoption("--dist-dir")).resolve()
    _install_moodcam(selenium, dist_dir)
    files = {p.name: p.read_text() for p in sorted(CORE_TESTS.glob("*.py"))}
    assert any(name.startswith("test_") for name in files), "tests/core holds no test files"
    plugin = (REPO / "tests" / "pyodide" / "outcomes.py").read_text()
    manifest = (REPO / "models" / "manifest.json").read_text()
    # The repo's layout under /tmp/repo: a test finds models/manifest.json as it does in CPython.
    selenium.run(f"""
        import os, json
        os.makedirs("/tmp/repo/tests/core", exist_ok=True)
        os.makedirs("/tmp/repo/models", exist_ok=True)
        files = json.loads({json.dumps(json.dumps(files))})
        for name, text in files.items():
            with open("/tmp/repo/tests/core/" + name, "w") as handle:
                handle.write(text)
        with open("/tmp/repo/models/manifest.json", "w") as handle:
            handle.write({manifest!r})
        with open("/tmp/moodcam_outcomes.py", "w") as handle:
            handle.write({plugin!r})
    """)
    result = selenium.run("""
        import sys, io, json, contextlib
        sys.path.insert(0, "/tmp")
        import pytest
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "moodcam_outcomes",
                                "-o", "addopts=", "--rootdir", "/tmp/repo/tests/core", "/tmp/repo/tests/core"])
        json.dumps({"code": int(code), "out": out.getvalue()})
    """)
    result = json.loads(result)
    lines = [line for line in result["out"].splitlines() if line.startswith("OUTCOMES ")]
    assert lines, f"pytest inside Pyodide printed no outcomes:\n{result['out'][-4000:]}"
    in_pyodide = json.loads(lines[-1][len("OUTCOMES "):])
    in_cpython = _cpython_outcomes()
    failed = {k: v for k, v in in_pyodide.items() if v != "passed"}
    assert not failed, f"tests failing inside Pyodide: {failed}\n{result['out'][-4000:]}"
    assert result["code"] == 0, result["out"][-4000:]
    assert in_pyodide == in_cpython, "CPython and Pyodide ran different tests or got different outcomes"
    print(f"{len(in_pyodide)} core tests passed in both CPython and Pyodide")


def test_core_fingerprint_is_identical_in_pyodide(selenium, request):
    dist_dir = Path(request.config.getoption("--dist-dir")).resolve()
    _install_moodcam(selenium, dist_dir)
    source = (REPO / "tests" / "pyodide" / "fingerprint.py").read_text()
    got = selenium.run(source + "\nimport json\njson.dumps(compute())\n")
    both_pyodide = json.loads(got)
    both_cpython = json.loads(json.dumps(fingerprint.compute()))
    # short and full range decoding, full range with the tile sweep (issue 12); the calibration fit (issue 15)
    assert both_pyodide.keys() == both_cpython.keys() == {"near", "far", "far_tiles", "calibration"}
    for detector in ("near", "far", "far_tiles", "calibration"):
        in_pyodide, in_cpython = both_pyodide[detector], both_cpython[detector]
        assert in_pyodide["labels"] == in_cpython["labels"], f"{detector}: mood states/events differ"
        assert in_pyodide["numbers"].keys() == in_cpython["numbers"].keys()
        # Raw model outputs are float32, and wasm's libm rounds exp/log differently
        # from x86's SIMD paths (numpy 2.0.2 on CPython gives the CPython figures
        # bit for bit): allow float32 rounding, ~6e-9 relative was measured.
        for key, value in in_cpython["numbers"].items():
            assert in_pyodide["numbers"][key] == pytest.approx(value, rel=1e-7), (detector, key)
        if detector == "calibration":
            assert 0.5 < in_cpython["numbers"]["nearest_mean_cv"] < 1.0, in_cpython["numbers"]
            continue
        assert in_cpython["numbers"]["faces"] > 100
        assert any(label.startswith("mood:") for label in in_cpython["labels"])
