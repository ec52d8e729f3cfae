"""`build.py models --check`: byte for byte, except float weights within rounding.

TensorFlow's constant folding rounds differently on different processors; a weight within
MAX_ROUNDING float epsilons of its tensor's largest magnitude is the same model; anything more,
or any change of an integer weight, is a difference.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from moodcam_tools.convert.cli import MAX_ROUNDING, differences, rounding_apart

NAME = "emotion_mini_xception"        # a folder build.py models owns


INDICES = np.array([1, 2], dtype="<i4")   # an int32 weight beside the floats (reduction indices)


def site(folder, weights: np.ndarray, extra: str = "", indices: np.ndarray = INDICES):
    (folder / NAME).mkdir(parents=True)
    shard = weights.astype("<f4").tobytes() + indices.astype("<i4").tobytes()
    (folder / NAME / "group1-shard1of1.bin").write_bytes(shard)
    (folder / NAME / "model.json").write_text(json.dumps({"weightsManifest": [
        {"paths": ["group1-shard1of1.bin"], "weights": [
            {"name": "w", "shape": [len(weights)], "dtype": "float32"},
            {"name": "axes", "shape": [len(indices)], "dtype": "int32"}]}]}))
    sha = hashlib.sha256(shard).hexdigest()
    (folder / "manifest.json").write_text(json.dumps({"models": {NAME: {"files": [
        {"path": f"{NAME}/group1-shard1of1.bin", "sha256": sha}]}}, "note": extra}))
    return folder


def test_rounding_is_the_same_model_more_is_not(tmp_path):
    w = np.linspace(-1, 1, 101, dtype=np.float32)
    eps = float(np.finfo(np.float32).eps)
    one = w.copy()
    one[7] += np.float32(2 * eps)                # rounding at the tensor's scale (max |w| = 1)
    two = w.copy()
    two[7] += np.float32(1e-4)                   # a real change
    committed = site(tmp_path / "committed", w)
    near: list[str] = []
    assert differences(site(tmp_path / "one", one), committed, near) == [] and len(near) == 1
    found = differences(site(tmp_path / "two", two), committed, [])
    assert f"{NAME}/group1-shard1of1.bin: differs" in found and "manifest.json: differs" in found
    layout = [(np.dtype("<f4"), len(w))]
    assert rounding_apart(w.tobytes(), two.tobytes(), layout) > MAX_ROUNDING


def test_an_integer_weight_must_be_equal(tmp_path):
    w = np.linspace(-1, 1, 11, dtype=np.float32)
    committed = site(tmp_path / "committed", w)
    found = differences(site(tmp_path / "built", w, indices=np.array([1, 3])), committed, [])
    assert f"{NAME}/group1-shard1of1.bin: differs" in found


def test_any_other_manifest_change_is_still_a_difference(tmp_path):
    w = np.linspace(-1, 1, 11, dtype=np.float32)
    one = w.copy()
    one[3] = np.nextafter(one[3], np.float32(2))
    committed = site(tmp_path / "committed", w)
    found = differences(site(tmp_path / "built", one, extra="changed"), committed, [])
    assert found == ["manifest.json: differs"]


def test_sizes_and_non_finite_values_are_never_near():
    a = np.array([0.5, 1.0], dtype="<f4").tobytes()
    b = np.array([np.inf, 1.0], dtype="<f4").tobytes()
    layout = [(np.dtype("<f4"), 2)]
    assert rounding_apart(a, b, layout) is None
    assert rounding_apart(a, a[:4], layout) is None
