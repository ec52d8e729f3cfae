"""The second one-class set (`build.py make-tree-set`, train.tree_set): tiles that never overlap, crowns cut by
a tile's edge kept only when half of them is inside, the pinned wheel's photos checked, the committed split
lists naming real tiles, and nothing half-written when a pin does not match."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.train import tree_set

REPO = Path(__file__).resolve().parents[2]
LISTS = REPO / "bench" / "splits" / "trees"


def test_tile_grid_is_centred_and_never_overlaps():
    assert tree_set.tile_origins(1249, 400) == [24, 424, 824]
    assert tree_set.tile_origins(400, 400) == [0]
    assert tree_set.tile_origins(1035) == [5, 261, 517, 773]                  # 256 px by default
    with pytest.raises(BuildError, match="smaller than one 256 px tile"):
        tree_set.tile_origins(255)


def test_a_cut_crown_is_kept_clipped_only_when_half_of_it_is_inside():
    boxes = np.array([[110, 120, 150, 160],      # wholly inside the tile at (100, 100)
                      [480, 200, 520, 240],      # half inside (x 480..500 of 480..520): kept, clipped
                      [490, 300, 540, 340],      # a fifth inside: dropped
                      [700, 700, 720, 720]],     # elsewhere
                     dtype=np.float32)
    kept = tree_set.crowns_in_tile(boxes, 100, 100, tile=400)
    np.testing.assert_allclose(kept, [[10, 20, 50, 60], [380, 100, 400, 140]])


def test_tiles_cover_the_photo_row_by_row():
    pixels = np.arange(900 * 850 * 3, dtype=np.uint32).reshape(900, 850, 3).astype(np.uint8)
    boxes = np.array([[30, 60, 70, 90]], dtype=np.float32)
    tiles = list(tree_set.cut_tiles("p", pixels, boxes, tile=400))
    assert [t.name for t in tiles] == ["p_r0_c0", "p_r0_c1", "p_r1_c0", "p_r1_c1"]
    assert all(t.pixels.shape == (400, 400, 3) for t in tiles)
    np.testing.assert_array_equal(tiles[3].pixels, pixels[450:850, 425:825])     # margins 50 and 25
    np.testing.assert_allclose(tiles[0].boxes, [[5, 10, 45, 40]])
    assert all(len(t.boxes) == 0 for t in tiles[1:])
    xml = tree_set.voc_xml(tiles[0])
    assert "<filename>p_r0_c0.png</filename>" in xml and xml.count("<object>") == 1
    assert "<name>tree</name>" in xml and "<xmin>5.0</xmin><ymin>10.0</ymin><xmax>45.0</xmax>" in xml


def test_a_member_that_does_not_match_its_pin_is_refused(tmp_path):
    wheel = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("deepforest/data/a.xml", b"<annotation/>")
    with zipfile.ZipFile(wheel) as archive:
        with pytest.raises(BuildError, match="a.xml in w.whl has sha256 .* not the pinned one"):
            tree_set._member(archive, "deepforest/data/a.xml", "0" * 64, wheel)
        with pytest.raises(BuildError, match="holds no deepforest/data/b.xml"):
            tree_set._member(archive, "deepforest/data/b.xml", "0" * 64, wheel)
    with pytest.raises(BuildError, match="not a readable VOC file"):
        tree_set.read_voc_boxes(b"<annotation><object>", "x.xml")


@pytest.fixture(scope="module")
def tree_folder(tmp_path_factory):
    """The set built from the real pinned wheel (downloaded into the download cache once, 21 MB)."""
    from moodcam_tools.paths import downloads_dir

    dest = tmp_path_factory.mktemp("trees") / "set"
    return dest, tree_set.build_tree_set(dest, downloads_dir())


def test_the_real_set_loads_whole_and_matches_the_committed_lists(tree_folder):
    from moodcam_tools.train.datasets import load_dataset
    from moodcam_tools.train.splits import image_key, read_list

    dest, summary = tree_folder
    assert summary["tiles"] == 89 and summary["crowns"] == 746
    assert {stem: part["tiles"] for stem, part in summary["photos"].items()} == {
        "2019_YELL_2_528000_4978000_image_crop2": 72, "2019_YELL_2_541000_4977000_image_crop": 16, "OSBS_029": 1}
    data = load_dataset(dest, "voc", None)
    assert len(data.samples) == 89 and list(data.class_names) == ["tree"]
    assert sum(len(s.boxes) for s in data.samples) == 746 and not data.report.problems
    keys = {image_key(s.image_path, dest) for s in data.samples}
    lists = {name: [key for _line, key in read_list(LISTS, name)] for name in ("train", "val", "test")}
    named = [*lists["train"], *lists["val"], *lists["test"]]
    assert sorted(named) == sorted(keys) and len(named) == len(set(named)) == 89
    assert [len(lists[name]) for name in ("train", "val", "test")] == [57, 14, 18]


def test_a_pin_that_does_not_match_leaves_the_old_folder_as_it_was(tree_folder, tmp_path, monkeypatch):
    from moodcam_tools.paths import downloads_dir

    dest = tmp_path / "set"
    dest.mkdir()
    (dest / "mine.txt").write_text("kept")
    bad = tree_set.SourcePhoto("OSBS_029", "0" * 64, tree_set.PHOTOS[2].xml_sha256)
    monkeypatch.setattr(tree_set, "PHOTOS", (*tree_set.PHOTOS[:2], bad))
    with pytest.raises(BuildError, match="OSBS_029.png in deepforest-2.1.0-py3-none-any.whl has sha256"):
        tree_set.build_tree_set(dest, downloads_dir(), download=False)
    assert [p.name for p in dest.iterdir()] == ["mine.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name != "set"]         # no staging folder left behind


def test_the_command_prints_what_it_wrote(tree_folder, tmp_path, capsys):
    from moodcam_tools.train.cli import tree_set_main

    assert tree_set_main(["--dest", str(tmp_path / "t"), "--offline"]) == 0
    out = capsys.readouterr().out
    assert "[trees] OSBS_029: 400x400 px, 61 crowns -> 1 tiles holding 26" in out
    assert "wrote 89 tiles, 746 crowns" in out
    assert len(list((tmp_path / "t").glob("*.png"))) == 89 and (tmp_path / "t" / "SOURCE.txt").is_file()
