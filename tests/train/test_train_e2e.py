"""End to end on CPU: a synthetic set (shapes on real photos) -> training -> COCO AP on the held-out split.

The training runs once per session (conftest.trained_run) through the same entry
point as `build.py train-detector`; eval-detector then scores the saved model on
the VOC and CSV copies of the same data, which must give the same figures.
"""
from __future__ import annotations

import json

import pytest

from moodcam_tools.train.evaluate import STAT_KEYS, format_summary

pytestmark = pytest.mark.convert

# The mechanics tests (resume, weight average, head epochs) train the small BlazeFace network at 128 px:
# what they check does not depend on the start, and it is the quickest to build and step.
QUICK = ("--init", "mediapipe", "--input-size", "128")


def test_training_reaches_ap50_on_held_out_split(trained_run):
    run, result, seconds = trained_run
    stats = result["stats"]
    print(f"\ntraining wall time {seconds:.0f} s ({result['train_seconds']:.0f} s in the loop), "
          f"{result['epochs_run']} epochs, best epoch {result['best_epoch']}, {result['train_images']} train / "
          f"{result['val_images']} held-out images ({result['stop_reason']})")
    print(format_summary(stats))
    assert result["val_images"] == 40
    assert stats["AP50"] >= 0.9, stats
    history = json.loads((run / "history.json").read_text())
    assert len(history) == result["epochs_run"]
    assert history[-1]["loss"] < history[0]["loss"]
    for name in ("config.json", "settings.json", "data_report.txt", "best.weights.h5",
                 "checkpoints/last.weights.h5", "checkpoints/optimizer.npz", "checkpoints/state.json"):
        assert (run / name).is_file(), name


@pytest.mark.parametrize("fmt", ["voc", "csv"])
def test_eval_detector_on_other_formats_agrees(trained_run, synthetic_sets, fmt, tmp_path, capsys):
    from moodcam_tools.train.cli import eval_main

    run, result, _ = trained_run
    out = tmp_path / "eval.json"
    assert eval_main(["--data", str(synthetic_sets[fmt]), "--format", fmt, "--model", str(run),
                      "--split", "val", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]" in printed
    assert "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]" in printed
    stats = json.loads(out.read_text())
    for key in STAT_KEYS:
        assert stats[key] == pytest.approx(result["stats"][key], abs=2e-3), key


def test_eval_detector_takes_another_nms(trained_run, synthetic_sets, tmp_path, capsys):
    """--nms / --nms-iou replace the run's own (three classes: hard at 0.6 by default) for one evaluation."""
    from moodcam_tools.train.cli import eval_main

    run, _, _ = trained_run
    assert json.loads((run / "config.json").read_text())["nms"] == "hard"
    kept = {}
    for label, extra in (("own", []), ("low", ["--nms", "hard", "--nms-iou", "0.05"])):
        out = tmp_path / f"{label}.json"
        assert eval_main(["--data", str(synthetic_sets["yolo"]), "--format", "yolo", "--model", str(run),
                          "--split", "val", "--json", str(out), *extra]) == 0
        kept[label] = json.loads(out.read_text())["detections"]
    printed = capsys.readouterr().out
    assert "[eval] hard NMS at IoU 0.6" in printed and "[eval] hard NMS at IoU 0.05" in printed
    # An IoU threshold this low drops every box that touches a better one: fewer detections kept.
    assert kept["low"] < kept["own"]


def test_resume_continues_where_it_stopped(small_sets, tmp_path):
    from moodcam_tools.train.cli import train_main

    common = ["--data", str(small_sets["csv"]), "--format", "csv", "--quiet", "--no-export", "--batch-size", "4",
              *QUICK]
    run = tmp_path / "run"
    # An interrupted run: the time budget stops it after its first epoch of three.
    assert train_main([*common, "--out", str(run), "--epochs", "3", "--max-minutes", "0.0001"]) == 0
    assert len(json.loads((run / "history.json").read_text())) == 1
    assert train_main([*common, "--out", str(run), "--epochs", "3"]) == 1          # refuses to overwrite
    assert train_main([*common, "--out", str(run), "--epochs", "3", "--resume"]) == 0
    history = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]
    straight = tmp_path / "straight"
    assert train_main([*common, "--out", str(straight), "--epochs", "3"]) == 0
    again = json.loads((straight / "history.json").read_text())
    # fixed seeds: the resumed run saw the same batches and reached the same losses
    for a, b in zip(history, again):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-3), (a, b)


def test_weight_average_is_validated_kept_and_resumed(small_sets, tmp_path):
    """--ema: validation and best.weights.h5 use the moving average, and a resumed run carries it on."""
    import numpy as np

    from moodcam_tools.train.cli import train_main
    from moodcam_tools.train.train import load_trained

    common = ["--data", str(small_sets["csv"]), "--format", "csv", "--quiet", "--no-export", "--batch-size", "4",
              *QUICK, "--ema", "0.9", "--epochs", "2", "--patience", "5"]
    run = tmp_path / "run"
    assert train_main([*common, "--out", str(run), "--max-minutes", "0.0001"]) == 0
    assert (run / "checkpoints" / "ema.weights.h5").is_file()
    assert train_main([*common, "--out", str(run), "--resume"]) == 0
    straight = tmp_path / "straight"
    assert train_main([*common, "--out", str(straight)]) == 0
    resumed, again = (json.loads((r / "history.json").read_text()) for r in (run, straight))
    for a, b in zip(resumed, again):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-3), (a, b)

    # The kept weights are the average, not the last trained ones.
    model, _ = load_trained(straight)
    best = [w.numpy() for w in model.weights]
    model.load_weights(str(straight / "checkpoints" / "last.weights.h5"))
    raw = [w.numpy() for w in model.weights]
    model.load_weights(str(straight / "checkpoints" / "ema.weights.h5"))
    ema = [w.numpy() for w in model.weights]
    assert not all(np.allclose(a, b) for a, b in zip(ema, raw))
    history = again
    if history[-1]["AP"] > history[0]["AP"] + 1e-4:                 # the last epoch was the best one
        assert all(np.array_equal(a, b) for a, b in zip(best, ema))

    # A run trained without the average cannot be resumed with it.
    plain = tmp_path / "plain"
    assert train_main([*common[:-6], "--out", str(plain), "--epochs", "2", "--max-minutes", "0.0001"]) == 0
    assert train_main([*common, "--out", str(plain), "--resume"]) == 1


def test_head_epochs_hold_the_pretrained_layers_still_then_train_them(small_sets, tmp_path):
    """--head-epochs: the first epochs move only the layers --init did not fill; then everything moves,
    through a resume as well."""
    import numpy as np

    from moodcam_tools.train.cli import train_main
    from moodcam_tools.train.model import DetectorConfig, build_model, init_from_mediapipe, mediapipe_tflite
    from moodcam_tools.train.train import RunFiles

    common = ["--data", str(small_sets["csv"]), "--format", "csv", "--quiet", "--no-export", "--batch-size", "4",
              *QUICK, "--epochs", "2", "--head-epochs", "1"]
    run = tmp_path / "run"
    assert train_main([*common, "--out", str(run), "--max-minutes", "0.0001"]) == 0     # stops after epoch 1
    config = DetectorConfig.load(RunFiles(run).config)
    start = build_model(config)
    pretrained = set(init_from_mediapipe(start, mediapipe_tflite()))
    after_one = build_model(config)
    after_one.load_weights(str(RunFiles(run).last_weights))

    def moved(a, b, layers):
        return [v.path for v, w in zip(a.trainable_variables, b.trainable_variables)
                if v.path.split("/")[0] in layers and not np.array_equal(v.numpy(), w.numpy())]

    heads = {v.path.split("/")[0] for v in start.trainable_variables} - pretrained
    assert pretrained and heads
    assert moved(start, after_one, pretrained) == []            # held still in the head epoch
    assert len(moved(start, after_one, heads)) == len(heads) * 2  # every head kernel and bias trained
    assert train_main([*common, "--out", str(run), "--resume"]) == 0
    after_two = build_model(config)
    after_two.load_weights(str(RunFiles(run).last_weights))
    assert len(moved(after_one, after_two, pretrained)) > len(pretrained)   # then the whole network trains


def test_head_epochs_are_refused_where_they_mean_nothing(small_sets, tmp_path, capsys):
    from moodcam_tools.train.cli import train_main

    common = ["--data", str(small_sets["csv"]), "--format", "csv", "--quiet", "--no-export", "--out", str(tmp_path)]
    assert train_main([*common, "--init", "none", "--head-epochs", "2"]) == 1
    assert "--head-epochs needs a pretrained start" in capsys.readouterr().err
    assert train_main([*common, "--epochs", "3", "--head-epochs", "3"]) == 1
    assert "--head-epochs 3 must be at least 0 and fewer than --epochs 3" in capsys.readouterr().err


def test_the_defaults_train_the_pretrained_mobilenet_at_256(small_sets, tmp_path, capsys):
    """No model options: the command's defaults (docs/custom-detectors.md) build the MobileNetV2 trunk at 256 px,
    load its Open Images weights, pick the head strides from the boxes and train."""
    from moodcam_tools.train.cli import train_main
    from moodcam_tools.train.model import DetectorConfig
    from moodcam_tools.train.train import RunFiles

    run = tmp_path / "run"
    assert train_main(["--data", str(small_sets["csv"]), "--format", "csv", "--quiet", "--no-export", "--batch-size",
                       "4", "--epochs", "2", "--max-minutes", "0.0001", "--out", str(run)]) == 0
    printed = capsys.readouterr().out
    config = DetectorConfig.load(RunFiles(run).config)
    assert (config.backbone, config.input_size, config.box_coding) == ("mobilenetv2_oidv4", 256, "ssd")
    assert "backbone initialised from object_detection_ssd_mobilenetv2_oidv4_fp16.tflite" in printed
    assert "[train] head strides" in printed and "(auto: the median training box is" in printed
