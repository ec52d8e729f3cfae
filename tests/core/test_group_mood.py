"""Groups: every face its own vote; the page's mood by the group rule; small faces not read.

The rule (FrameLogic._group_vote, docs/using.md "Near and far; groups"): the label most faces' confident votes
agree on; ties go to the largest face's label among the tied.
"""
from __future__ import annotations

from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig

from .test_pipeline import H, W, one_hot, raw_for

EVERY_FRAME = ScheduleConfig(detector_every_n_frames=1, emotion_every_n_frames=1)


def run(boxes, labels_by_x, frames=90, **config):
    """Faces at `boxes`; each face's emotion output by its box's left edge: {x0: label}."""
    logic = FrameLogic(FrameLogicConfig(schedule=EVERY_FRAME, **config))
    raw = raw_for(boxes)
    result = None
    for i in range(frames):
        logic.begin_frame(i * 33.0, W, H)
        logic.submit_detections(*raw)
        tracks = {t.id: t for t in logic.tracker.tracks}
        for req in logic.emotion_requests():
            x0 = round(float(tracks[req.face_id].box[0]) / 10) * 10
            logic.submit_emotion(req.face_id, one_hot(labels_by_x[x0]))
        result = logic.end_frame()
    return result


def test_the_most_common_mood_wins():
    boxes = [[40, 100, 140, 220], [240, 100, 330, 210], [440, 100, 520, 200]]   # largest on the left
    r = run(boxes, {40: "sad", 240: "happy", 440: "happy"})
    assert r.mood.state == "mood" and r.mood.mood == "happy"
    assert sorted(f.label for f in r.faces) == ["happy", "happy", "sad"]       # each face its own vote


def test_a_tie_goes_to_the_largest_face():
    boxes = [[40, 100, 180, 260], [300, 100, 400, 220]]
    r = run(boxes, {40: "surprise", 300: "happy"})
    assert r.mood.mood == "surprise"
    assert [f.primary for f in r.faces].count(True) == 1


def test_small_faces_are_counted_but_not_read():
    boxes = [[100, 100, 220, 240], [450, 150, 480, 185]]     # the second is 30 px wide
    r = run(boxes, {100: "happy", 450: "angry"}, frames=60)
    assert len(r.faces) == 2
    small = next(f for f in r.faces if f.box[2] - f.box[0] < 40)
    assert not small.readable and small.label is None and small.probabilities is None
    assert r.mood.mood == "happy"
    assert small.id not in r.emotion_face_ids


def test_six_faces_are_tracked_with_stable_ids():
    boxes = [[20 + 105 * i, 150, 110 + 105 * i, 260] for i in range(6)]
    logic = FrameLogic(FrameLogicConfig(schedule=EVERY_FRAME))
    raw = raw_for(boxes)
    ids = None
    for i in range(20):
        r = logic.process(i * 33.0, W, H, *raw)
        assert len(r.faces) == 6
        now = sorted(f.id for f in r.faces)
        assert ids is None or now == ids
        ids = now
