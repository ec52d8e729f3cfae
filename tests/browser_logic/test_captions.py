"""Captions in a group never hide each other, a new face shows "checking…", and faces all too far
to read give no mood but say why (issue 27; moodcam.browser.render)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from moodcam.browser.captions import face_caption, place_tags, too_far_to_read


def overlaps(a, b) -> bool:
    return (min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0])) and (min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1]))


def face(readable=True, label=None, top_label=None, probability=0.0):
    return SimpleNamespace(readable=readable, label=label, top_label=top_label, probability=probability)


def test_the_issues_four_people_standing_together_get_four_readable_captions():
    # Four faces 38-44 px side by side, 6 px apart, as in the issue's photo; each caption is wider than its face.
    boxes = np.array([[100 + i * 50, 200, 144 + i * 50, 244] for i in range(4)], float)
    rects = place_tags(boxes, [(140.0, 18.0)] * 4, (640.0, 480.0))
    assert all(not overlaps(a, b) for i, a in enumerate(rects) for b in rects[i + 1:]), rects
    assert all(0 <= r[0] and r[0] + r[2] <= 640 and 0 <= r[1] and r[1] + r[3] <= 480 for r in rects)


@pytest.mark.parametrize("seed", range(5))
def test_crowded_groups_keep_every_caption_clear_of_the_others(seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform([0, 40], [560, 400], (6, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(28, 80, (6, 1))], axis=1)
    rects = place_tags(boxes, [(130.0, 18.0)] * 6, (640.0, 480.0))
    assert all(not overlaps(a, b) for i, a in enumerate(rects) for b in rects[i + 1:]), rects


def test_a_caption_sits_above_its_face_when_there_is_room():
    (rect,) = place_tags(np.array([[100, 100, 150, 150]], float), [(80.0, 18.0)], (640.0, 480.0))
    assert rect == (100.0, 82.0, 80.0, 18.0)


def test_a_face_not_read_yet_is_checking_not_a_mood():
    assert face_caption(face(), 2) == "Face 2: checking…"
    assert face_caption(face(readable=False), 1) == "Face 1: too far to read"
    assert face_caption(face(label="happy", probability=0.93), 1) == "Face 1: Happy 93%"


def test_too_far_to_read_only_when_faces_are_there_and_none_is_readable():
    assert too_far_to_read([face(readable=False), face(readable=False)])
    assert not too_far_to_read([face(readable=False), face()])
    assert not too_far_to_read([])
