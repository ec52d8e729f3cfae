"""The exporter merges its entry into models/manifest.json only when the app would load the result (no TensorFlow)."""
from __future__ import annotations

import json

import pytest

from moodcam.manifest import parse_manifest
from moodcam_tools.errors import BuildError
from moodcam_tools.train.export import _manifest_with, _write_manifest
from tests.core.test_manifest_typed import manifest_of, valid_entry


def test_entry_is_merged_and_other_entries_kept(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps(manifest_of(other=valid_entry("other", detector=False))))
    data = _manifest_with(tmp_path, "shapes", valid_entry("shapes"))
    _write_manifest(tmp_path, data)
    parsed = parse_manifest((tmp_path / "manifest.json").read_bytes())
    assert sorted(parsed.models) == ["other", "shapes"] and parsed.detector_names() == ["shapes"]


def test_first_export_creates_the_manifest(tmp_path):
    data = _manifest_with(tmp_path, "shapes", valid_entry("shapes"))
    assert parse_manifest(data).names() == ["shapes"]


@pytest.mark.parametrize("broken", ["new", "existing"])
def test_refused_before_anything_is_written(tmp_path, broken):
    other = valid_entry("other", detector=False)
    entry = valid_entry("shapes")
    (other if broken == "existing" else entry)["input"]["sizes"] = [128, 128]
    before = json.dumps(manifest_of(other=other))
    (tmp_path / "manifest.json").write_text(before)
    with pytest.raises(BuildError) as info:
        _manifest_with(tmp_path, "shapes", entry)
    assert "input.sizes" in info.value.problem
    assert (tmp_path / "manifest.json").read_text() == before
