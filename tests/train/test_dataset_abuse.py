"""Hostile dataset files (issue 30, item 9): each is reported like any bad file and the load goes on,
or, for YOLO class names nothing else can give, stops with a BuildError naming the file and the fix.
Every bomb here is refused before it expands, so each test runs in well under a second."""
from __future__ import annotations

import re
import shutil
import tracemalloc
from pathlib import Path

import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.train import datasets, synthetic
from moodcam_tools.train.datasets import BAD_ANNOTATION, load_dataset, load_split

CLASSES = list(synthetic.CLASSES)           # circle, square, triangle


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _yolo_with_data_yaml(small_sets, tmp_path: Path, yaml_text: str) -> Path:
    root = _copy(small_sets["yolo"], tmp_path / "yolo")
    (root / "classes.txt").unlink()
    (root / "data.yaml").write_text(yaml_text)
    return root


def _refused_names_file(root: Path, fname: str, *words: str) -> None:
    """The names file is fatal without --classes (a BuildError naming it), reported and skipped with it."""
    with pytest.raises(BuildError) as err:
        load_dataset(root, "yolo")
    message = str(err.value)
    assert fname in message and "--classes" in message, message
    for word in words:
        assert word in message, message
    ds = load_dataset(root, "yolo", classes=CLASSES)
    assert len(ds.samples) == 12, ds.report.render()
    assert [p.file for p in ds.report.problems] == [fname], ds.report.render()
    assert ds.report.problems[0].reason == BAD_ANNOTATION


def _alias_bomb(levels: int) -> str:
    """The YAML "billion laughs": each line repeats the one above nine times by alias."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines + [f"names: [*l{levels - 1}, square, triangle]"]) + "\n"


# ---------------------------------------------------------------- data.yaml / classes.txt

def test_data_yaml_nested_5000_deep_is_a_clear_error_not_a_recursion_error(small_sets, tmp_path):
    root = _yolo_with_data_yaml(small_sets, tmp_path, "names: " + "[" * 5000 + "]" * 5000 + "\n")
    _refused_names_file(root, "data.yaml", "nested more than")


def test_yaml_alias_bomb_is_refused_before_it_expands(small_sets, tmp_path):
    # Six levels expand to a 2.6 MB class name on a loader that follows aliases (nine levels: 226 MB);
    # refused, the load allocates next to nothing.
    root = _yolo_with_data_yaml(small_sets, tmp_path, _alias_bomb(6))
    tracemalloc.start()
    try:
        with pytest.raises(BuildError) as err:
            load_dataset(root, "yolo")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "alias" in str(err.value) and "data.yaml" in str(err.value)
    assert peak < 2_000_000, f"{peak} bytes at peak"
    _refused_names_file(root, "data.yaml", "alias")


@pytest.mark.parametrize("names, words", [
    ("[circle, 1, triangle]", ["class id 1", "a number", "quotes"]),
    ("[circle, no, triangle]", ["class id 1", "true/false"]),            # YAML 1.1 reads `no` as False
    ("{0: circle, 1: [a, b], 2: triangle}", ["class id 1", "a list"]),
    ("{0: circle, 1: {x: y}, 2: triangle}", ["class id 1", "a mapping"]),
    ("[circle, '', triangle]", ["class id 1", "empty"]),
    ("[circle, '" + "s" * 500 + "', triangle]", ["class id 1", "longer than 100"]),
    ('[circle, "squ\\nare", triangle]', ["class id 1", "control character"]),
])
def test_data_yaml_class_names_must_be_short_text(small_sets, tmp_path, names, words):
    root = _yolo_with_data_yaml(small_sets, tmp_path, f"names: {names}\n")
    _refused_names_file(root, "data.yaml", *words)


def test_data_yaml_quoted_names_that_look_like_other_types_load(small_sets, tmp_path):
    root = _copy(small_sets["yolo"], tmp_path / "yolo")
    (root / "classes.txt").unlink()
    (root / "data.yaml").write_text("names: ['no', '1', triangle]\n")
    ds = load_dataset(root, "yolo")
    assert ds.class_names == ["1", "no", "triangle"] and not ds.report.problems, ds.report.render()


def test_classes_txt_names_must_be_short_text(small_sets, tmp_path):
    root = _copy(small_sets["yolo"], tmp_path / "yolo")
    (root / "classes.txt").write_text("circle\n" + "s" * 500 + "\ntriangle\n")
    _refused_names_file(root, "classes.txt", "class id 1", "longer than 100")


def test_a_names_file_over_the_size_limit_is_not_read(small_sets, tmp_path):
    root = _copy(small_sets["yolo"], tmp_path / "yolo")
    (root / "classes.txt").write_text("\n".join(CLASSES) + "\n" * (datasets.MAX_NAMES_FILE_BYTES + 1))
    _refused_names_file(root, "classes.txt", "larger than 1 MiB")


def test_a_bad_class_list_on_the_command_line_stops_the_load(small_sets):
    for load in (load_dataset, load_split):
        with pytest.raises(BuildError, match="the class list: the class name .* longer than 100"):
            load(small_sets["voc"], "voc", ["circle", "s" * 101])


# ---------------------------------------------------------------- VOC XML and CSV objects

def _set_first_name(xml_file: Path, name: str) -> None:
    xml_file.write_text(re.sub(r"<name>\w+</name>", f"<name>{name}</name>", xml_file.read_text(), count=1))


def test_empty_voc_name_is_reported_per_object_not_a_class(small_sets, tmp_path):
    root = _copy(small_sets["voc"], tmp_path / "voc")
    _set_first_name(root / "img_0001.xml", "")
    _set_first_name(root / "img_0002.xml", "   ")
    _set_first_name(root / "img_0003.xml", "s" * 5000)
    ds = load_dataset(root, "voc")
    assert ds.class_names == sorted(CLASSES), ds.report.render()
    bad = {p.file: p.detail for p in ds.report.problems if p.reason == BAD_ANNOTATION}
    assert set(bad) == {"img_0001.xml", "img_0002.xml", "img_0003.xml"}, ds.report.render()
    assert "empty" in bad["img_0001.xml"] and "empty" in bad["img_0002.xml"]
    assert "longer than 100" in bad["img_0003.xml"] and len(bad["img_0003.xml"]) < 300   # the name is cut
    # Their other objects still count; an image whose only object was unnamed is left out.
    assert len(ds.samples) + ds.report.counts.get(datasets.NO_VALID_BOX, 0) == 12


def test_empty_csv_class_is_reported_per_row(small_sets, tmp_path):
    root = _copy(small_sets["csv"], tmp_path / "csv")
    with open(root / "labels.csv", "a") as f:
        f.write("img_0002.jpg,300,200,,10,10,40,40,synthetic\n")
    ds = load_dataset(root, "csv")
    assert "" not in ds.class_names and len(ds.samples) == 12
    assert ds.report.counts == {BAD_ANNOTATION: 1} and "empty" in ds.report.problems[0].detail


def _entity_bomb(levels: int) -> str:
    """The XML "billion laughs", small enough (100 bytes x 10**levels) to pass expat's own limit."""
    ents = '<!ENTITY e0 "' + "x" * 100 + '">'
    ents += "".join(f'<!ENTITY e{i} "' + f"&e{i - 1};" * 10 + '">' for i in range(1, levels + 1))
    return f"<!DOCTYPE annotation [{ents}]>\n"


def test_voc_xml_with_a_doctype_is_refused_before_its_entities_expand(small_sets, tmp_path):
    root = _copy(small_sets["voc"], tmp_path / "voc")
    x = (root / "img_0001.xml").read_text()
    (root / "img_0001.xml").write_text(_entity_bomb(4) + x.replace("<name>circle</name>", "<name>&e4;</name>"))
    x = (root / "img_0002.xml").read_text()         # no entity used: a DTD alone is refused too
    (root / "img_0002.xml").write_text('<?xml version="1.0"?>\n<!DOCTYPE annotation>\n' + x)
    ds = load_dataset(root, "voc")
    assert ds.report.files_with(BAD_ANNOTATION) == ["img_0001.xml", "img_0002.xml"], ds.report.render()
    assert all("DOCTYPE" in p.detail for p in ds.report.problems)
    assert len(ds.samples) == 10 and ds.class_names == sorted(CLASSES)


def test_voc_xml_over_the_size_limit_is_not_read(small_sets, tmp_path):
    root = _copy(small_sets["voc"], tmp_path / "voc")
    x = (root / "img_0001.xml").read_text()
    padding = "<!-- " + "x" * datasets.MAX_XML_BYTES + " -->"
    (root / "img_0001.xml").write_text(x.replace("</annotation>", padding + "</annotation>"))
    ds = load_dataset(root, "voc")
    assert ds.report.files_with(BAD_ANNOTATION) == ["img_0001.xml"], ds.report.render()
    assert "larger than 4 MiB" in ds.report.problems[0].detail
    assert len(ds.samples) == 11


def test_voc_xml_nested_deep_is_reported_not_a_crash(small_sets, tmp_path):
    # expat and ElementTree do not recurse (a guard: this held before issue 30 too).
    root = _copy(small_sets["voc"], tmp_path / "voc")
    (root / "img_0001.xml").write_text("<annotation>" + "<a>" * 20_000 + "</a>" * 20_000 + "</annotation>")
    ds = load_dataset(root, "voc")
    assert ds.report.files_with(BAD_ANNOTATION) == ["img_0001.xml"], ds.report.render()
    assert len(ds.samples) == 11


def test_more_class_names_than_a_detector_can_have_are_refused(small_sets, tmp_path):
    many = datasets.MAX_CLASS_ID + 1
    root = _yolo_with_data_yaml(small_sets, tmp_path, "names: [" + ", ".join(["a"] * many) + "]\n")
    _refused_names_file(root, "data.yaml", f"{many} class names")
