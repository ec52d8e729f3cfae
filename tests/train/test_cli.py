"""The command lines' help and their refusals."""
from __future__ import annotations

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
