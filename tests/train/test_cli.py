"""The command lines' help and their refusals."""
from __future__ import annotations

import pytest

from moodcam_tools.train import cli


def test_help_texts_name_the_formats_and_options():
    text = cli.train_parser().format_help()
    for word in ("--data", "--format", "voc", "yolo", "csv", "--resume", "--init", "--input-size", "--install-into",
                 "filename,width,height,class,xmin,ymin,xmax,ymax,source", "seeded 80/20"):
        assert word in text, word
    text = cli.eval_parser().format_help()
    for word in ("--model", "--split", "--json", "COCO"):
        assert word in text, word


def test_refusals_are_build_errors(tmp_path, capsys):
    assert cli.train_main(["--data", str(tmp_path / "none"), "--format", "voc"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert cli.train_main(["--data", str(tmp_path), "--format", "voc", "--name", "Bad Name"]) == 1
    assert "not usable" in capsys.readouterr().err
    assert cli.train_main(["--data", str(tmp_path), "--format", "voc", "--init", str(tmp_path / "x.tflite")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert cli.eval_main(["--data", str(tmp_path), "--format", "csv", "--model", str(tmp_path)]) == 1
    assert "not a training run folder" in capsys.readouterr().err


BUILT_IN = ("blazeface_short_range", "emotion_mini_xception", "face_landmark")


def test_built_in_model_names_are_refused_before_anything_is_written(tmp_path, monkeypatch, capsys):
    from moodcam_tools.errors import BuildError
    from moodcam_tools.train.export import check_name

    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    for name in BUILT_IN:
        with pytest.raises(BuildError, match="built-in"):
            check_name(name)
        assert cli.train_main(["--data", str(data), "--format", "voc", "--name", name]) == 1
        err = capsys.readouterr().err
        assert f"model name {name!r}" in err and "built-in" in err and "--name" in err, err
    # The default name comes from the data folder: a folder named like a built-in model is refused too.
    (tmp_path / "face_landmark").mkdir()
    assert cli.train_main(["--data", str(tmp_path / "face_landmark"), "--format", "voc"]) == 1
    assert "built-in" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "face_landmark"]     # no runs/ folder


def test_an_installed_model_is_replaced_only_with_overwrite(tmp_path, monkeypatch, capsys):
    import json
    import shutil
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    models = tmp_path / "models"
    models.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "models" / "manifest.json"
    shutil.copy(shipped, models / "manifest.json")
    assert "shapes_demo" in json.loads(shipped.read_text())["models"]
    before = (models / "manifest.json").read_bytes()
    data = tmp_path / "data"
    data.mkdir()
    args = ["--data", str(data), "--format", "voc", "--name", "shapes_demo", "--install-into", str(models)]
    assert cli.train_main(args) == 1
    err = capsys.readouterr().err
    assert "shapes_demo" in err and "--overwrite" in err and str(models) in err, err
    assert (models / "manifest.json").read_bytes() == before and not (tmp_path / "runs").exists()
    # With --overwrite the command goes on (here to the empty data folder's own error).
    assert cli.train_main([*args, "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "--overwrite" not in err and "no valid training images" in err, err
    # A name not yet installed needs nothing.
    assert cli.train_main([*args[:-3], "shapes_v2", "--install-into", str(models)]) == 1
    assert "no valid training images" in capsys.readouterr().err
