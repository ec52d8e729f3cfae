"""Held-out splits by file: the seeded three-way split, the lists' round trip through
`build.py split-detector-data`, `train-detector --splits` (train + val only, never test) and
`eval-detector --splits --split test`, and the errors a bad list gets."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.train import cli
from moodcam_tools.train.splits import image_key, parse_list, three_way_split

REPO = Path(__file__).resolve().parents[2]
RACCOON = REPO.parent / "shared" / "datasets" / "raccoon"
RACCOON_LISTS = REPO / "bench" / "splits" / "raccoon"


def _keys(n: int) -> list[str]:
    return [f"img-{i:03d}.jpg" for i in range(n)]


def test_three_way_split_keeps_the_given_test_part_and_splits_the_rest_by_seed():
    rest, given = _keys(160), [f"held-{i}.jpg" for i in range(40)]
    lists = three_way_split(rest, val_fraction=0.2, seed=0, given_test=given)
    assert (len(lists.train), len(lists.val), len(lists.test)) == (128, 32, 40)
    assert lists.test == tuple(sorted(given))
    assert not set(lists.train) & set(lists.val) and set(lists.train) | set(lists.val) == set(rest)
    # Same keys and seed, any order: the same lists; another seed: another validation part.
    assert three_way_split(list(reversed(rest)), val_fraction=0.2, seed=0, given_test=given) == lists
    assert three_way_split(rest, val_fraction=0.2, seed=1, given_test=given).val != lists.val


def test_three_way_split_without_a_given_part_draws_test_then_validation():
    lists = three_way_split(_keys(100), val_fraction=0.25, test_fraction=0.2, seed=3)
    assert (len(lists.train), len(lists.val), len(lists.test)) == (60, 20, 20)
    assert len(set(lists.train) | set(lists.val) | set(lists.test)) == 100
    with pytest.raises(BuildError, match="between 0 and 1"):
        three_way_split(_keys(10), val_fraction=0.0)
    with pytest.raises(BuildError, match="both in the given test part"):
        three_way_split(_keys(10), val_fraction=0.2, given_test=["img-001.jpg"])


def test_a_list_naming_an_image_twice_is_refused_with_both_lines():
    with pytest.raises(BuildError, match=r"names a.jpg twice \(lines 2 and 4\)"):
        parse_list("# header\na.jpg\nb.jpg\na.jpg\n", "train.txt")


@pytest.fixture()
def given_csv_set(small_sets, tmp_path) -> Path:
    """The 12 small scenes as a CSV set with the author's split: train_labels.csv (9 images) and
    test_labels.csv (3), images in the images/ folder beside data/ (the raccoon set's layout)."""
    shutil.copytree(small_sets["csv"] / "images", tmp_path / "set" / "images")
    data = tmp_path / "set" / "data"
    data.mkdir()
    header, *rows = (small_sets["csv"] / "labels.csv").read_text().splitlines()
    names = sorted({r.split(",")[0] for r in rows})
    test_names = set(names[-3:])
    for file, keep in (("train_labels.csv", lambda n: n not in test_names), ("test_labels.csv", test_names.__contains__)):
        (data / file).write_text("\n".join([header, *(r for r in rows if keep(r.split(",")[0]))]) + "\n")
    return data


def _entries(path: Path) -> list[str]:
    return [key for _n, key in parse_list(path.read_text(), str(path))]


def _make_lists(data: Path, out: Path, capsys) -> dict[str, list[str]]:
    assert cli.split_main(["--data", str(data), "--format", "csv", "--out", str(out), "--val-fraction", "0.34"]) == 0
    assert "6 train / 3 val / 3 test" in capsys.readouterr().out
    return {name: _entries(out / f"{name}.txt") for name in ("train", "val", "test")}


class _Stop(Exception):
    pass


def test_train_detector_with_splits_trains_on_train_validates_on_val_and_never_sees_test(
        given_csv_set, tmp_path, monkeypatch, capsys):
    from moodcam_tools.train import train as train_module

    lists = _make_lists(given_csv_set, tmp_path / "lists", capsys)
    assert lists["test"] == [f"../images/{n}" for n in sorted(
        {r.split(",")[0] for r in (given_csv_set / "test_labels.csv").read_text().splitlines()[1:]})]
    seen = {}

    def fake_train(train_set, val_set, config, settings, out, resume=False):
        seen["train"] = [image_key(s.image_path, given_csv_set) for s in train_set.samples]
        seen["val"] = [image_key(s.image_path, given_csv_set) for s in val_set.samples]
        raise _Stop

    monkeypatch.setattr(train_module, "train", fake_train)
    with pytest.raises(_Stop):
        cli.train_main(["--data", str(given_csv_set), "--format", "csv", "--splits", str(tmp_path / "lists"),
                        "--out", str(tmp_path / "run"), "--quiet", "--no-export"])
    assert sorted(seen["train"]) == lists["train"] and sorted(seen["val"]) == lists["val"]
    assert "test.txt's 3 images not used" in capsys.readouterr().out


def test_eval_detector_scores_exactly_the_test_list(given_csv_set, tmp_path, monkeypatch, capsys):
    from moodcam_tools.train import evaluate as evaluate_module
    from moodcam_tools.train import train as train_module
    from moodcam_tools.train.model import DetectorConfig

    lists = _make_lists(given_csv_set, tmp_path / "lists", capsys)
    scored = {}

    def fake_evaluate(raw_fn, config, samples, min_score):
        scored["keys"] = [image_key(s.image_path, given_csv_set) for s in samples]
        raise _Stop

    monkeypatch.setattr(train_module, "load_trained", lambda run: (None, DetectorConfig(("circle",))))
    monkeypatch.setattr(evaluate_module, "keras_raw_fn", lambda model: None)
    monkeypatch.setattr(evaluate_module, "evaluate", fake_evaluate)
    args = ["--data", str(given_csv_set), "--format", "csv", "--model", str(tmp_path), "--classes",
            "circle,square,triangle"]
    with pytest.raises(_Stop):
        cli.eval_main([*args, "--splits", str(tmp_path / "lists"), "--split", "test"])
    assert scored["keys"] == lists["test"]
    assert cli.eval_main([*args, "--split", "test"]) == 1
    assert "--split test needs --splits" in capsys.readouterr().err
    assert cli.eval_main([*args, "--splits", str(tmp_path / "lists")]) == 1
    assert "--splits needs --split train, val or test" in capsys.readouterr().err


def test_a_list_naming_a_missing_image_stops_with_the_file_line_and_fix(given_csv_set, tmp_path, capsys):
    lists = tmp_path / "lists"
    _make_lists(given_csv_set, lists, capsys)
    (lists / "val.txt").write_text((lists / "val.txt").read_text() + "../images/not-there.jpg\n")
    run = ["--data", str(given_csv_set), "--format", "csv", "--splits", str(lists), "--out", str(tmp_path / "run"),
           "--quiet", "--no-export"]
    assert cli.train_main(run) == 1
    err = capsys.readouterr().err
    assert f"{lists / 'val.txt'} line 6 names ../images/not-there.jpg" in err, err
    assert "no such image" in err and "fix:" in err and "delete the line" in err, err
    # An image that exists but that the load left out (here: no annotation row) is told apart.
    shutil.copy(given_csv_set.parent / "images" / _entries(lists / "train.txt")[0].split("/")[-1],
                given_csv_set.parent / "images" / "unlabelled.jpg")
    (lists / "val.txt").write_text("../images/unlabelled.jpg\n")
    assert cli.train_main(run) == 1
    assert "which the load left out" in capsys.readouterr().err
    # An image in two lists is refused, naming both; a missing list names the command that makes it.
    (lists / "val.txt").write_text(_entries(lists / "test.txt")[0] + "\n")
    assert cli.train_main(run) == 1
    assert "is in both val.txt and test.txt" in capsys.readouterr().err
    (lists / "val.txt").unlink()
    assert cli.train_main(run) == 1
    err = capsys.readouterr().err
    assert "no val.txt" in err and "split-detector-data" in err, err
    assert not (tmp_path / "run").exists()


def test_help_names_the_split_options():
    assert "--splits" in cli.train_parser().format_help()
    assert "--splits" in cli.eval_parser().format_help() and "test" in cli.eval_parser().format_help()
    assert "held-out part becomes the test list" in cli.split_parser().format_help()


@pytest.mark.skipif(not RACCOON.is_dir(), reason="the raccoon set is not in ../shared/datasets")
def test_the_committed_raccoon_lists_are_what_the_command_makes(tmp_path, capsys):
    """bench/splits/raccoon: the author's 40 test photos as test, the 160 others 128 / 32 with seed 0."""
    assert cli.split_main(["--data", str(RACCOON / "data"), "--format", "csv", "--out", str(tmp_path),
                           "--seed", "0", "--val-fraction", "0.2"]) == 0
    for name, count in (("train", 128), ("val", 32), ("test", 40)):
        committed = _entries(RACCOON_LISTS / f"{name}.txt")
        assert committed == _entries(tmp_path / f"{name}.txt") and len(committed) == count, name
    author_test = {line.split(",")[0] for line in (RACCOON / "data" / "test_labels.csv").read_text().splitlines()[1:]}
    assert {key.split("/")[-1] for key in _entries(RACCOON_LISTS / "test.txt")} == author_test
