"""Loaders for VOC, YOLO and CSV, the seeded split, and the bad-data report (each kind of corruption)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.train import datasets, synthetic
from moodcam_tools.train.datasets import (ANNOTATION_WITHOUT_IMAGE, BOX_OUTSIDE, IMAGE_UNREADABLE, NO_VALID_BOX,
                                          UNKNOWN_CLASS, ZERO_AREA, load_dataset, load_split, require_samples)


def _by_name(ds):
    return {s.image_path.name: s for s in ds.samples}


def test_three_formats_give_the_same_samples(small_sets):
    loaded = {fmt: load_dataset(path, fmt) for fmt, path in small_sets.items()}
    ref = _by_name(loaded["voc"])
    assert len(ref) == 12
    for fmt, ds in loaded.items():
        assert ds.class_names == sorted(synthetic.CLASSES) or fmt == "yolo"
        assert not ds.report.problems, ds.report.render()
        got = _by_name(ds)
        assert got.keys() == ref.keys(), fmt
        for name, s in got.items():
            r = ref[name]
            assert (s.width, s.height) == (r.width, r.height)
            assert s.labels == r.labels, (fmt, name)
            # YOLO stores normalised centres with 6 decimals: sub-pixel agreement.
            np.testing.assert_allclose(s.boxes, r.boxes, atol=0.01, err_msg=f"{fmt} {name}")
    assert loaded["yolo"].class_names == list(synthetic.CLASSES)       # classes.txt order
    assert loaded["voc"].num_boxes == loaded["csv"].num_boxes > 12


def test_boxes_match_the_scenes(small_sets):
    scenes = {f"{s.name}.jpg": s for s in synthetic.make_scenes(12, seed=5)}
    for s in load_dataset(small_sets["csv"], "csv").samples:
        np.testing.assert_array_equal(s.boxes, scenes[s.image_path.name].boxes)
        assert list(s.labels) == scenes[s.image_path.name].labels


def test_seeded_split_is_80_20_and_reproducible(small_sets):
    a_train, a_val, how = load_split(small_sets["voc"], "voc", seed=3)
    b_train, b_val, _ = load_split(small_sets["csv"], "csv", seed=3)
    assert "seeded split" in how
    assert (len(a_train.samples), len(a_val.samples)) == (10, 2)
    assert [s.image_path.name for s in a_val.samples] == [s.image_path.name for s in b_val.samples]
    c_val = load_split(small_sets["voc"], "voc", seed=4)[1]
    names = lambda d: {s.image_path.name for s in d.samples}  # noqa: E731
    assert names(a_train).isdisjoint(names(a_val))
    assert names(c_val) != names(a_val) or len(a_val.samples) == 0


def test_given_split_is_used(tmp_path):
    scenes = synthetic.make_scenes(6, seed=1)
    synthetic.write_voc(scenes[:4], tmp_path / "voc" / "train")
    synthetic.write_voc(scenes[4:], tmp_path / "voc" / "val")
    train, val, how = load_split(tmp_path / "voc", "voc")
    assert "given split" in how and (len(train.samples), len(val.samples)) == (4, 2)
    root = tmp_path / "csv"
    synthetic.write_csv(scenes[:4], root, "train_labels.csv")
    synthetic.write_csv(scenes[4:], root, "test_labels.csv")
    train, val, how = load_split(root, "csv")
    assert "given split" in how and (len(train.samples), len(val.samples)) == (4, 2)


def test_fixed_class_list_reports_unknown(small_sets):
    ds = load_dataset(small_sets["voc"], "voc", classes=["circle", "square"])
    assert ds.class_names == ["circle", "square"]
    assert all(lab in ("circle", "square") for s in ds.samples for lab in s.labels)
    assert ds.report.counts.get(UNKNOWN_CLASS, 0) >= 1


# ---------------------------------------------------------------- corrupt data, one kind at a time

def _corrupt_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _expect(ds, reason: str, files: list[str], count: int):
    assert ds.report.counts.get(reason) == count, ds.report.render()
    bad = ds.report.files_with(reason)
    for f in files:
        assert any(f in b for b in bad), (f, bad)
    text = ds.report.render()
    assert reason in text and f"{count} x {reason}" in text


def test_voc_corruptions(small_sets, tmp_path):
    root = _corrupt_copy(small_sets["voc"], tmp_path / "voc")
    # annotation without image
    (root / "img_0000.jpg").unlink()
    # image unreadable
    (root / "img_0001.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    # box outside the image, zero-area box, unknown class (one object each, in three files)
    x = (root / "img_0002.xml").read_text()
    x = x.replace("<xmax>", "<xmax>9", 1)                   # xmax grows by 900+ px
    (root / "img_0002.xml").write_text(x)
    x = (root / "img_0003.xml").read_text()
    import re
    xmin = re.search(r"<xmin>(\d+)</xmin>", x).group(1)
    x = re.sub(r"<xmax>\d+</xmax>", f"<xmax>{xmin}</xmax>", x, count=1)
    (root / "img_0003.xml").write_text(x)
    x = (root / "img_0004.xml").read_text()
    x = re.sub(r"<name>\w+</name>", "<name>hexagon</name>", x, count=1)
    (root / "img_0004.xml").write_text(x)
    ds = load_dataset(root, "voc", classes=list(synthetic.CLASSES))
    _expect(ds, ANNOTATION_WITHOUT_IMAGE, ["img_0000.xml"], 1)
    _expect(ds, IMAGE_UNREADABLE, ["img_0001.jpg"], 1)
    _expect(ds, BOX_OUTSIDE, ["img_0002.xml"], 1)
    _expect(ds, ZERO_AREA, ["img_0003.xml"], 1)
    _expect(ds, UNKNOWN_CLASS, ["img_0004.xml"], 1)
    # training goes on with what is valid; an image whose only objects were bad is left out
    # (as a negative it would teach the model that its object is background)
    assert len(ds.samples) + ds.report.counts.get(NO_VALID_BOX, 0) == 10
    assert ds.report.images_ok == len(ds.samples)


def test_yolo_corruptions(small_sets, tmp_path):
    root = _corrupt_copy(small_sets["yolo"], tmp_path / "yolo")
    (root / "images" / "img_0000.jpg").unlink()
    (root / "images" / "img_0001.jpg").write_bytes(b"")
    lines = (root / "labels" / "img_0002.txt").read_text().splitlines()
    (root / "labels" / "img_0002.txt").write_text("\n".join(["0 1.4 0.5 0.2 0.2"] + lines) + "\n")   # outside
    (root / "labels" / "img_0003.txt").write_text("\n".join(["1 0.5 0.5 0.0 0.2"] + lines) + "\n")   # zero w
    (root / "labels" / "img_0004.txt").write_text("\n".join(["7 0.5 0.5 0.2 0.2"] + lines) + "\n")   # id 7
    ds = load_dataset(root, "yolo")
    _expect(ds, ANNOTATION_WITHOUT_IMAGE, ["labels/img_0000.txt"], 1)
    _expect(ds, IMAGE_UNREADABLE, ["images/img_0001.jpg"], 1)
    _expect(ds, BOX_OUTSIDE, ["labels/img_0002.txt"], 1)
    _expect(ds, ZERO_AREA, ["labels/img_0003.txt"], 1)
    _expect(ds, UNKNOWN_CLASS, ["labels/img_0004.txt"], 1)
    assert len(ds.samples) == 10          # 2..4 keep their valid boxes


def test_csv_corruptions(small_sets, tmp_path):
    root = _corrupt_copy(small_sets["csv"], tmp_path / "csv")
    (root / "images" / "img_0000.jpg").unlink()
    (root / "images" / "img_0001.jpg").write_bytes(b"GIF89a truncated")
    with open(root / "labels.csv", "a") as f:
        f.write("img_0002.jpg,300,200,circle,-50,10,-10,40,synthetic\n")      # entirely left of the image
        f.write("img_0003.jpg,300,200,square,30,30,30,60,synthetic\n")        # zero width
        f.write("img_0004.jpg,300,200,hexagon,10,10,40,40,synthetic\n")       # unknown class
    ds = load_dataset(root, "csv", classes=list(synthetic.CLASSES))
    _expect(ds, ANNOTATION_WITHOUT_IMAGE, ["img_0000.jpg"], 1)
    _expect(ds, IMAGE_UNREADABLE, ["img_0001.jpg"], 1)
    _expect(ds, BOX_OUTSIDE, ["img_0002.jpg"], 1)
    _expect(ds, ZERO_AREA, ["img_0003.jpg"], 1)
    _expect(ds, UNKNOWN_CLASS, ["img_0004.jpg"], 1)
    assert len(ds.samples) == 10


def test_nothing_valid_stops_with_a_clear_message(small_sets, tmp_path, capsys):
    root = _corrupt_copy(small_sets["yolo"], tmp_path / "yolo")
    shutil.rmtree(root / "images")
    (root / "images").mkdir()
    ds = load_dataset(root, "yolo")
    assert not ds.samples and ds.report.counts == {ANNOTATION_WITHOUT_IMAGE: 12}
    with pytest.raises(BuildError) as err:
        require_samples(ds, "training", root)
    assert "no valid training images" in str(err.value) and "12 x annotation without image" in str(err.value)

    from moodcam_tools.train.cli import train_main
    assert train_main(["--data", str(root), "--format", "yolo", "--quiet", "--out", str(tmp_path / "run")]) == 1
    err_text = capsys.readouterr()
    assert "annotation without image" in err_text.out
    assert "error: no valid training images" in err_text.err


def test_missing_folder_and_bad_format(tmp_path):
    with pytest.raises(BuildError, match="does not exist"):
        load_dataset(tmp_path / "nope", "voc")
    with pytest.raises(BuildError, match="unknown dataset format"):
        load_dataset(tmp_path, "coco")
    with pytest.raises(BuildError, match="classes.txt"):
        load_dataset(tmp_path, "yolo")


def test_yaml_names():
    assert datasets._names_from_yaml("path: x\nnames:\n  0: cat\n  1: dog\n") == ["cat", "dog"]
    assert datasets._names_from_yaml("names: ['cat', 'dog']\n") == ["cat", "dog"]
    assert datasets._names_from_yaml("names:\n- cat\n- dog\nnc: 2\n") == ["cat", "dog"]
    assert datasets._names_from_yaml("names: {0: cat, 2: dog}\n") == ["cat", None, "dog"]    # id 1 unnamed
    with pytest.raises(ValueError, match="between 0 and"):
        datasets._names_from_yaml("names: {1000000000000: cat}\n")


# ---------------------------------------------------------------- files as people really save them

def _notes(ds) -> str:
    return "\n".join(f"{n.file}: {n.detail}" for n in ds.report.notes)


def _rename_image(root: Path, old: str, new: str) -> None:
    src = next(root.rglob(old))
    src.rename(src.with_name(new))


def test_voc_file_in_another_encoding_or_undecodable_is_handled_per_file(small_sets, tmp_path):
    root = _corrupt_copy(small_sets["voc"], tmp_path / "voc")
    # Latin-1 without a declaration (an old Windows tool), with a non-ASCII image name.
    _rename_image(root, "img_0001.jpg", "Känguru_0001.jpg")
    x = (root / "img_0001.xml").read_text().replace("img_0001.jpg", "Känguru_0001.jpg")
    (root / "img_0001.xml").write_bytes(x.encode("latin-1"))
    # A declaration naming an encoding Python does not know.
    x = (root / "img_0002.xml").read_text()
    (root / "img_0002.xml").write_text('<?xml version="1.0" encoding="x-mac-unknown"?>\n' + x)
    # UTF-8 with a BOM and a matching declaration: plain valid XML.
    x = (root / "img_0003.xml").read_text()
    (root / "img_0003.xml").write_bytes(b"\xef\xbb\xbf" + ('<?xml version="1.0" encoding="utf-8"?>\n' + x).encode())
    # Not XML at all.
    (root / "img_0004.xml").write_bytes(b"\x00\xff\xfe garbage \x81\x8d")
    ds = load_dataset(root, "voc")
    assert len(ds.samples) == 11, ds.report.render()
    assert "Känguru_0001.jpg" in _by_name(ds)
    _expect(ds, datasets.BAD_ANNOTATION, ["img_0004.xml"], 1)
    notes = _notes(ds)
    assert "img_0001.xml" in notes and "cp1252" in notes
    assert "img_0002.xml" in notes and "x-mac-unknown" in notes
    assert "img_0003.xml" not in notes
    assert "img_0001.xml" in ds.report.render() and "img_0002.xml" in ds.report.render()


def test_csv_in_latin1_or_with_an_excel_bom_loads(small_sets, tmp_path):
    root = _corrupt_copy(small_sets["csv"], tmp_path / "latin1")
    _rename_image(root, "img_0001.jpg", "Bäume_0001.jpg")
    text = (root / "labels.csv").read_text().replace("img_0001.jpg", "Bäume_0001.jpg")
    (root / "labels.csv").write_bytes(text.encode("latin-1"))
    ds = load_dataset(root, "csv")
    assert len(ds.samples) == 12 and "Bäume_0001.jpg" in _by_name(ds), ds.report.render()
    assert "labels.csv" in _notes(ds) and "cp1252" in _notes(ds)

    # Excel's "CSV UTF-8": a BOM, CRLF line ends; in many locales ';' between fields.
    root = _corrupt_copy(small_sets["csv"], tmp_path / "excel")
    text = (root / "labels.csv").read_text()
    (root / "labels.csv").write_bytes(b"\xef\xbb\xbf" + text.replace(",", ";").replace("\n", "\r\n").encode())
    ds = load_dataset(root, "csv")
    assert len(ds.samples) == 12 and not ds.report.problems, ds.report.render()
    assert ds.num_boxes == load_dataset(small_sets["csv"], "csv").num_boxes


def test_broken_csv_is_reported_and_the_others_load(small_sets, tmp_path):
    root = _corrupt_copy(small_sets["csv"], tmp_path / "csv")
    lines = (root / "labels.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    half = len(rows) // 2
    (root / "a.csv").write_text("\n".join([header] + rows[:half]) + "\n")
    # A runaway quote: the rest of the file becomes one field, longer than the csv module allows.
    (root / "b.csv").write_text("\n".join([header] + rows[half:]) + '\nx.jpg,"' + "y" * 200_000 + "\n")
    (root / "labels.csv").unlink()
    ds = load_dataset(root, "csv")
    assert len(ds.samples) == 12, ds.report.render()              # the rows before the runaway quote count
    _expect(ds, datasets.BAD_ANNOTATION, ["b.csv"], 1)
    assert "the rest of the file is left out" in ds.report.render()


def _yolo_without_classes_txt(small_sets, tmp_path, name="yolo") -> Path:
    root = _corrupt_copy(small_sets["yolo"], tmp_path / name)
    (root / "classes.txt").unlink()
    return root


@pytest.mark.parametrize("yaml_text", [
    "path: .\ntrain: images\nnames: {0: circle, 1: square, 2: triangle}\n",
    "names:\n  0: circle\n  1: square\n  2: triangle\nnc: 3\n",
    "names:\n  '0': circle\n  \"1\": square\n  2: triangle   # comment\n",
    "names: [circle, 'square', \"triangle\"]\n",
    "nc: 3\nnames:\n  - circle\n  - square\n  - triangle\n",
])
def test_yolo_data_yaml_names_as_list_or_mapping(small_sets, tmp_path, yaml_text):
    root = _yolo_without_classes_txt(small_sets, tmp_path)
    (root / "data.yaml").write_text(yaml_text)
    ds = load_dataset(root, "yolo")
    assert ds.class_names == list(synthetic.CLASSES)
    assert len(ds.samples) == 12 and not ds.report.problems, ds.report.render()


def test_yolo_names_files_in_other_encodings(small_sets, tmp_path):
    root = _yolo_without_classes_txt(small_sets, tmp_path)
    (root / "classes.txt").write_bytes("cercle\ncarré\ntriangle\n".encode("cp1252"))
    ds = load_dataset(root, "yolo")
    assert ds.class_names == ["carré", "cercle", "triangle"], ds.report.render()     # sorted, as always
    assert {lab for s in ds.samples for lab in s.labels} == {"cercle", "carré", "triangle"}
    assert len(ds.samples) == 12
    assert "classes.txt" in _notes(ds) and "cp1252" in _notes(ds)


def test_broken_data_yaml_names_the_file(small_sets, tmp_path):
    root = _yolo_without_classes_txt(small_sets, tmp_path)
    (root / "data.yaml").write_text("names: {0: circle, 1: [unclosed\n")
    with pytest.raises(BuildError) as err:
        load_dataset(root, "yolo")
    assert "data.yaml" in str(err.value) and "--classes" in str(err.value)
    # With the class list given, the load goes on and the broken file is reported.
    ds = load_dataset(root, "yolo", classes=list(synthetic.CLASSES))
    assert len(ds.samples) == 12
    assert any(p.file.endswith("data.yaml") for p in ds.report.problems), ds.report.render()


def test_annotation_paths_outside_the_dataset_are_rejected(small_sets, tmp_path):
    root = _corrupt_copy(small_sets["voc"], tmp_path / "data" / "voc")
    outside = tmp_path / "data" / "secret.jpg"
    shutil.copy(root / "img_0001.jpg", outside)          # a real image, just not in the dataset folder
    for n, name in ((1, "../secret.jpg"), (2, str(outside)), (3, "sub/../../secret.jpg")):
        x = (root / f"img_000{n}.xml").read_text().replace(f"img_000{n}.jpg", name)
        (root / f"img_000{n}.xml").write_text(x)
    ds = load_dataset(root, "voc")
    _expect(ds, datasets.PATH_OUTSIDE, ["img_0001.xml", "img_0002.xml", "img_0003.xml"], 3)
    assert len(ds.samples) == 9
    assert all(root in s.image_path.parents for s in ds.samples)
    assert "secret.jpg" in ds.report.render()

    root = _corrupt_copy(small_sets["csv"], tmp_path / "data" / "csv")
    with open(root / "labels.csv", "a") as f:
        f.write("../secret.jpg,300,200,circle,10,10,40,40,synthetic\n")
        f.write(f"{outside},300,200,circle,10,10,40,40,synthetic\n")
    ds = load_dataset(root, "csv")
    assert ds.report.counts.get(datasets.PATH_OUTSIDE) == 2, ds.report.render()
    assert len(ds.samples) == 12


def test_annotation_paths_into_subfolders_still_work(small_sets, tmp_path):
    root = _corrupt_copy(small_sets["voc"], tmp_path / "voc")
    (root / "photos").mkdir()
    (root / "img_0001.jpg").rename(root / "photos" / "img_0001.jpg")
    x = (root / "img_0001.xml").read_text().replace("img_0001.jpg", "photos/img_0001.jpg")
    (root / "img_0001.xml").write_text(x)
    ds = load_dataset(root, "voc")
    assert len(ds.samples) == 12 and not ds.report.problems, ds.report.render()


def _raccoon_layout(small_csv: Path, root: Path) -> Path:
    """The raccoon set's layout on a tiny copy: SET/data/{train,test}_labels.csv + SET/images/*.jpg."""
    shutil.copytree(small_csv / "images", root / "images")
    header, *rows = (small_csv / "labels.csv").read_text().splitlines()
    (root / "data").mkdir(parents=True)
    names = sorted({r.split(",")[0] for r in rows})
    test = set(names[:3])
    (root / "data" / "train_labels.csv").write_text(
        "\n".join([header] + [r for r in rows if r.split(",")[0] not in test]) + "\n")
    (root / "data" / "test_labels.csv").write_text(
        "\n".join([header] + [r for r in rows if r.split(",")[0] in test]) + "\n")
    return root


def test_csv_images_in_the_images_folder_beside_the_csv_folder(small_sets, tmp_path):
    root = _raccoon_layout(small_sets["csv"], tmp_path / "set")
    train, val, how = load_split(root / "data", "csv")
    assert "given split" in how
    assert (len(train.samples), len(val.samples)) == (9, 3), train.report.render()
    assert not train.report.problems
    assert all(s.image_path.parent == root / "images" for s in train.samples + val.samples)
    assert train.num_boxes + val.num_boxes == load_dataset(small_sets["csv"], "csv").num_boxes

    # An image next to the CSV wins over the sibling folder.
    shutil.copy(root / "images" / "img_0005.jpg", root / "data" / "img_0005.jpg")
    got = {s.image_path.name: s.image_path for s in load_split(root / "data", "csv")[0].samples}
    assert got["img_0005.jpg"] == root / "data" / "img_0005.jpg"

    # An image in neither place: reported with both places named, the others still load.
    (root / "images" / "img_0006.jpg").unlink()
    train, _, _ = load_split(root / "data", "csv")
    _expect(train, ANNOTATION_WITHOUT_IMAGE, ["img_0006.jpg"], 1)
    detail = train.report.render()
    assert str(root / "data" / "images") in detail and str(root / "images") in detail

    # A name that climbs out of the sibling folder is refused, not read.
    (tmp_path / "secret.jpg").write_bytes((root / "images" / "img_0007.jpg").read_bytes())
    with open(root / "data" / "train_labels.csv", "a") as f:
        f.write("../../secret.jpg,300,200,circle,10,10,40,40,synthetic\n")
    train, _, _ = load_split(root / "data", "csv")
    assert all(s.image_path.name != "secret.jpg" for s in train.samples)
    assert train.report.counts.get(datasets.PATH_OUTSIDE) == 1, train.report.render()


def test_csv_folder_one_level_down_is_named_in_the_error(small_sets, tmp_path):
    root = _raccoon_layout(small_sets["csv"], tmp_path / "set")
    with pytest.raises(BuildError) as err:
        load_split(root, "csv")
    assert "holds no .csv file" in str(err.value) and str(root / "data") in str(err.value)
