"""moodcam.landmarks.parts: MediaPipe's edge lists as closed outlines, palette and legend."""
import numpy as np
import pytest

from moodcam.landmarks.parts import (DEFAULT_LAYOUT, FACEMESH_PART_EDGES, KEY_POINTS, PART_NAMES, PART_STYLES,
                                     FacePartLayout, edges_to_paths, key_points, legend, part_polygons)


def test_every_part_is_present_in_drawing_order():
    assert DEFAULT_LAYOUT.names == PART_NAMES
    assert set(FACEMESH_PART_EDGES) == set(PART_NAMES)
    assert sum(len(e) for e in FACEMESH_PART_EDGES.values()) == 36 + 40 + 16 + 16 + 8 + 8 + 25


def test_loops_are_closed_and_use_valid_indices_and_real_edges():
    for part in DEFAULT_LAYOUT.parts:
        edges = {frozenset(e) for e in FACEMESH_PART_EDGES[part.name]}
        covered = set()
        assert part.loops, part.name
        for loop in part.loops:
            assert loop[0] == loop[-1] and len(loop) >= 4, (part.name, loop)
            assert len(set(loop[:-1])) == len(loop) - 1, f"{part.name}: a loop visits a landmark twice"
            assert all(0 <= i < 468 for i in loop)
            for a, b in zip(loop, loop[1:]):
                covered.add(frozenset((a, b)))
        for line in part.lines:
            assert all(0 <= i < 468 for i in line)
            covered.update(frozenset(p) for p in zip(line, line[1:]))
        # Every MediaPipe edge is drawn; only the eyebrows get two closing edges of their own.
        assert edges <= covered, part.name
        extra = covered - edges
        assert len(extra) == (2 if part.name.endswith("eyebrow") else 0), (part.name, extra)


def test_known_shapes():
    lips = DEFAULT_LAYOUT.get("lips")
    assert len(lips.loops) == 2 and not lips.lines                 # outer and inner lip line
    assert {61, 291, 0, 17} <= set(lips.loops[0]) and {78, 308, 13, 14} <= set(lips.loops[1])
    for eye, corners in (("right_eye", {33, 133}), ("left_eye", {263, 362})):
        (loop,) = DEFAULT_LAYOUT.get(eye).loops
        assert len(loop) == 17 and corners <= set(loop)
    assert DEFAULT_LAYOUT.get("right_eyebrow").loops == ((46, 53, 52, 65, 55, 107, 66, 105, 63, 70, 46),)
    assert len(DEFAULT_LAYOUT.get("face_oval").loops[0]) == 37
    nose = DEFAULT_LAYOUT.get("nose")
    assert len(nose.loops) == 1 and {2, 4, 98, 327} <= set(nose.loops[0])
    assert sorted(line[0] for line in nose.lines) == [2, 168]       # columella and bridge


def test_edges_to_paths_rules_and_errors():
    loops, lines = edges_to_paths([(0, 1), (1, 2), (2, 0)])
    assert loops == ((0, 1, 2, 0),) and lines == ()
    loops, lines = edges_to_paths([(0, 1), (1, 2)])
    assert loops == () and lines == ((0, 1, 2),)
    loops, lines = edges_to_paths([(10, 11), (11, 12), (20, 21), (21, 22)])
    assert loops == ((10, 11, 12, 22, 21, 20, 10),)
    with pytest.raises(ValueError):
        edges_to_paths([(0, 468)])
    with pytest.raises(ValueError):
        edges_to_paths([(0, 1), (1, 0)])


def test_layout_from_manifest_style_lists_equals_the_default():
    as_json = {k: [list(e) for e in v] for k, v in FACEMESH_PART_EDGES.items()}
    assert FacePartLayout.from_edges(as_json) == DEFAULT_LAYOUT
    with pytest.raises(ValueError, match="no style"):
        FacePartLayout.from_edges({"ears": [[1, 2]]})


def test_polygons_key_points_and_legend_are_plain_data():
    rng = np.random.default_rng(3)
    lm = rng.uniform(0, 100, size=(468, 3))
    polys = part_polygons(lm)
    assert [p["name"] for p in polys] == list(PART_NAMES)
    lips = polys[1]
    assert lips["fill_rule"] == "evenodd" and len(lips["loops"]) == 2
    first = lips["loops"][0]
    assert first[0] == first[-1] and isinstance(first[0][0], float)
    mirrored = part_polygons(lm, mirror_width=100.0, decimals=None)
    assert mirrored[0]["loops"][0][0][0] == pytest.approx(100 - lm[10, 0])
    pts = key_points(lm)
    assert [p["name"] for p in pts] == list(KEY_POINTS)
    assert pts[2]["x"] == pytest.approx(lm[1, 0])                    # nose tip is landmark 1
    leg = legend()
    assert [e["name"] for e in leg] == list(PART_NAMES)
    colours = [PART_STYLES[n].color for n in PART_NAMES]
    assert len(set(colours)) == len(colours) and all(c.startswith("#") and len(c) == 7 for c in colours)
    with pytest.raises(ValueError):
        part_polygons(np.zeros((10, 2)))
