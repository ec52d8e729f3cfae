"""The build writes the site version into sw.js: any changed file gives a new worker and cache name."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.fsutil import sha256_file
from moodcam_tools.site.assemble import build_site, site_version, stamp_service_worker

REPO = Path(__file__).resolve().parents[2]
VERSION_LINE = re.compile(r'^const VERSION = "([0-9a-f]{16})";', re.MULTILINE)


def test_site_version_changes_with_any_file():
    files = {"index.html": "a" * 64, "vendor/tfjs-4.22.0/tf.min.js": "b" * 64}
    base = site_version(files)
    assert base == site_version(dict(reversed(list(files.items()))))        # order does not matter
    assert site_version({**files, "index.html": "c" * 64}) != base           # a changed file
    assert site_version({**files, "models/x.bin": "d" * 64}) != base         # an added file
    assert site_version({"index.html": "a" * 64}) != base                    # a removed file
    assert site_version({"index2.html": "a" * 64, "vendor/tfjs-4.22.0/tf.min.js": "b" * 64}) != base


def test_stamp_refuses_a_worker_without_exactly_one_version_line(tmp_path):
    sw = tmp_path / "sw.js"
    sw.write_text('"use strict";\nconst VERSION = "dev";\nconst X = 1;\n')
    stamp_service_worker(sw, "0123456789abcdef")
    assert 'const VERSION = "0123456789abcdef";' in sw.read_text() and '"dev"' not in sw.read_text()
    sw.write_text("const X = 1;\n")
    with pytest.raises(BuildError, match="cannot be written"):
        stamp_service_worker(sw, "0123456789abcdef")


def _repo_copy(root: Path) -> Path:
    """The inputs of build_site, with node_modules shared (same package-lock.json, so no npm ci)."""
    if not (REPO / "node_modules" / ".moodcam-lock.sha256").is_file():
        pytest.skip("needs node_modules from `npm ci` (any build.py site/test run makes it)")
    root.mkdir()
    for name in ("index.html", "pyproject.toml", "package.json", "package-lock.json"):
        shutil.copyfile(REPO / name, root / name)
    for name in ("app", "models", "py/moodcam"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (root / "node_modules").symlink_to(REPO / "node_modules")
    return root


def _built(dest: Path) -> tuple[dict, str]:
    site = json.loads((dest / "site.json").read_text())
    sw = (dest / "sw.js").read_text()
    return site, sw


def test_build_writes_the_version_into_sw_js_and_any_change_renews_it(tmp_path):
    repo = _repo_copy(tmp_path / "repo")
    first = build_site(tmp_path / "one", repo=repo, quiet=True)
    site, sw = _built(first)
    match = VERSION_LINE.search(sw)
    assert match and match.group(1) == site["site_version"]
    assert site["files"]["sw.js"] == sha256_file(first / "sw.js")
    assert not (first / "app" / "sw.js").exists(), "a second, unstamped worker under app/"
    assert (REPO / "app" / "sw.js").read_text().count('const VERSION = "dev";') == 1

    again = build_site(tmp_path / "again", repo=repo, quiet=True)
    assert _built(again) == (site, sw), "the same inputs must give the same version"
    tree = {p.relative_to(first).as_posix(): p.read_bytes() for p in sorted(first.rglob("*")) if p.is_file()}
    assert tree == {p.relative_to(again).as_posix(): p.read_bytes() for p in sorted(again.rglob("*"))
                    if p.is_file()}, "two builds of the same inputs differ (precompressed copies included)"
    # The copies are there for the server, never listed: the worker precaches the real files only.
    copies = {rel for rel in tree if rel.endswith((".br", ".gz"))}
    assert {"sw.js.br", "site.json.gz", "index.html.br", "vendor/pyodide-0.27.7/pyodide.asm.wasm.br"} <= copies
    assert not copies & set(site["files"])
    assert set(site["files"]) | {"site.json"} == set(tree) - copies

    (repo / "app" / "style.css").write_text((repo / "app" / "style.css").read_text() + "\n/* changed */\n")
    second = build_site(tmp_path / "two", repo=repo, quiet=True)
    site2, sw2 = _built(second)
    assert site2["site_version"] != site["site_version"]
    assert VERSION_LINE.search(sw2).group(1) == site2["site_version"]


def test_the_start_set_matches_the_models_the_app_loads_first():
    """site.json's on_demand leaves out exactly what the default view loads (modes.py)."""
    import ast

    from moodcam_tools.site.assemble import START_MODELS, on_demand_files

    tree = ast.parse((REPO / "py" / "moodcam" / "browser" / "modes.py").read_text())
    constants = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name) and t.id in ("DETECTORS", "EMOTION")}
    assert set(START_MODELS) == {constants["DETECTORS"]["near"], constants["DETECTORS"]["far"], constants["EMOTION"]}
    pyodide = "vendor/pyodide-0.27.7/"
    files = {f"models/{m}/{f}": "x" for m in ("blazeface_short_range", "emotion_mini_xception", "face_landmark")
             for f in ("model.json", "group1-shard1of1.bin", "README.md")}
    files.update({"models/manifest.json": "x", "index.html": "x", "app/boot.js": "x",
                  f"{pyodide}pyodide.asm.wasm": "x", f"{pyodide}numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl": "x",
                  f"{pyodide}micropip-0.9.0-py3-none-any.whl": "x", f"{pyodide}pyodide.mjs": "x"})
    assert on_demand_files(files, pyodide) == sorted([
        "models/blazeface_short_range/README.md", "models/emotion_mini_xception/README.md",
        "models/face_landmark/README.md", "models/face_landmark/group1-shard1of1.bin",
        "models/face_landmark/model.json", f"{pyodide}micropip-0.9.0-py3-none-any.whl", f"{pyodide}pyodide.mjs"])
