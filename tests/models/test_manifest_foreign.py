"""`build.py models` keeps manifest entries it does not own (custom detectors) and --check validates them.

No TensorFlow: the staged build is faked with small files; the functions are the ones
`moodcam_tools.convert.cli.run` calls after building.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from moodcam_tools.convert import cli, manifest
from moodcam_tools.errors import BuildError
from tests.core.test_detection_spec import CUSTOM
from tests.core.test_manifest_typed import valid_entry


def _file(root: Path, rel: str, data: bytes, role: str) -> dict:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "role": role}


def _owned_entry(root: Path, name: str, version: bytes) -> dict:
    files = [_file(root, f"{name}/model.json", b'{"v": "%s"}' % version, "graph"),
             _file(root, f"{name}/group1-shard1of1.bin", version * 8, "weights"),
             _file(root, f"{name}/README.md", b"card " + version, "card")]
    return {**valid_entry(name, detector=False), "files": files}     # an entry the app accepts


def _write(root: Path, models: dict) -> None:
    manifest.write(root / "manifest.json", {"format": manifest.FORMAT, "about": "x", "models": models})


def _custom_entry(root: Path) -> dict:
    entry = valid_entry("shapes_demo")
    entry.update({**json.loads(json.dumps(CUSTOM)), "weights_dtype": "float32", "source": {}, "licence": "l",
                  "converter": {}})
    entry["files"] = [_file(root, "shapes_demo/model.json", b"{}", "graph"),
                      _file(root, "shapes_demo/group1-shard1of1.bin", b"\x01" * 16, "weights"),
                      _file(root, "shapes_demo/README.md", b"# shapes_demo", "card")]
    return entry


@pytest.fixture
def folders(tmp_path):
    out, staging = tmp_path / "models", tmp_path / "staging"
    old = {n: _owned_entry(out, n, b"old") for n in cli.OWNED_MODELS}
    _write(out, {**old, "shapes_demo": _custom_entry(out)})
    _write(staging, {n: _owned_entry(staging, n, b"new") for n in cli.OWNED_MODELS})
    return out, staging


def test_install_keeps_foreign_entries_and_their_folders(folders):
    out, staging = folders
    before = (out / "shapes_demo" / "group1-shard1of1.bin").read_bytes()
    assert cli.keep_foreign_entries(staging, out) == ["shapes_demo"]
    cli.install(staging, out)
    data = json.loads((out / "manifest.json").read_text())
    assert sorted(data["models"]) == sorted([*cli.OWNED_MODELS, "shapes_demo"])
    assert data["models"]["shapes_demo"]["labels"] == CUSTOM["labels"]
    assert (out / "shapes_demo" / "group1-shard1of1.bin").read_bytes() == before
    owned = cli.OWNED_MODELS[0]
    assert (out / owned / "README.md").read_bytes() == b"card new"
    assert [p for p in manifest.problems(out) if "field" not in p] == []   # files: all listed, all intact
    assert (out / "manifest.json").read_text() == manifest.dumps(data)   # canonical


def test_check_compares_owned_files_and_validates_foreign_ones(folders):
    out, staging = folders
    # A fresh build of the same owned models: identical once the foreign entry is merged in.
    _write(staging, {n: _owned_entry(staging, n, b"old") for n in cli.OWNED_MODELS})
    cli.keep_foreign_entries(staging, out)
    assert cli.differences(staging, out) == []
    assert manifest.foreign_problems(out, cli.OWNED_MODELS) == []
    # A damaged custom model is reported as such, not as a difference from the build.
    (out / "shapes_demo" / "group1-shard1of1.bin").write_bytes(b"\x02" * 16)
    assert cli.differences(staging, out) == []
    problems = manifest.foreign_problems(out, cli.OWNED_MODELS)
    assert problems == ["shapes_demo/group1-shard1of1.bin: size or sha256 differs from the manifest"]


def test_foreign_entry_must_be_decodable_and_keep_out_of_owned_folders(folders):
    out, _ = folders
    data = json.loads((out / "manifest.json").read_text())
    entry = data["models"]["shapes_demo"]
    entry["labels"] = ["circle"]                                     # 1 label for 3 classes
    entry["files"].append({**entry["files"][0], "path": f"{cli.OWNED_MODELS[0]}/model.json", "role": "card"})
    with pytest.raises(BuildError, match="1 labels for 3 classes"):    # the writer refuses it ...
        manifest.write(out / "manifest.json", data)
    (out / "manifest.json").write_text(manifest.dumps(data))          # ... so damage it by hand
    problems = manifest.foreign_problems(out, cli.OWNED_MODELS)
    assert any("not a decodable detector" in p and "1 labels for 3 classes" in p for p in problems), problems
    assert any("which build.py models owns" in p for p in problems), problems


def test_owned_entry_changes_still_differ(folders):
    out, staging = folders
    cli.keep_foreign_entries(staging, out)
    found = cli.differences(staging, out)
    assert "manifest.json: differs" in found
    assert not [f for f in found if f.startswith("shapes_demo")]


def test_writers_refuse_what_the_app_would_refuse(folders, tmp_path):
    out, staging = folders
    data = json.loads((out / "manifest.json").read_text())
    data["models"]["shapes_demo"]["input"]["normalisation"]["scael"] = 1.0
    (out / "manifest.json").write_text(manifest.dumps(data))          # hand-edited, with a typo
    with pytest.raises(BuildError) as info:                           # build.py models will not carry it over
        cli.keep_foreign_entries(staging, out)
    assert "'shapes_demo'" in info.value.problem and "input.normalisation.scael" in info.value.problem
    assert "re-export the detector" in info.value.fix
    assert any("scael" in p for p in manifest.foreign_problems(out, cli.OWNED_MODELS))
    assert any("scael" in p for p in manifest.problems(out))


def test_unreadable_manifest_is_not_overwritten(folders):
    out, staging = folders
    (out / "manifest.json").write_text("{broken")

    with pytest.raises(BuildError) as info:
        cli.keep_foreign_entries(staging, out)
    assert "not touching it" in str(info.value.render() if hasattr(info.value, "render") else info.value)
    assert (out / "manifest.json").read_text() == "{broken"
