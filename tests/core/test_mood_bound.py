"""Bounded time to an answer: any stream of emotion probabilities from one steady face, through any
voting strategy, reaches a committed mood or "can't tell" within MoodConfig.answer_within_ms, and the
shown answer never changes faster than its dwell."""
import json

import numpy as np
from hypothesis import given, settings, strategies as st

from moodcam.detection.result import Detections
from moodcam.mood.labels import EMOTIONS
from moodcam.mood.presentation import PRESENTATIONS, headline, presentation_for
from moodcam.mood.state import CANT_TELL, MOOD, OBSERVING, STATES, MoodConfig, MoodSnapshot, MoodStateMachine
from moodcam.mood.voting import STRATEGY_NAMES, Voter, voting_config
from moodcam.pipeline import FrameLogic, FrameLogicConfig

FACE = Detections(np.array([[200, 120, 320, 260]], np.float32), np.array([0.9], np.float32),
                  np.zeros((1, 6, 2), np.float32))

probability_vector = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=7, max_size=7).map(
    lambda v: np.asarray(v) / sum(v) if sum(v) > 0 else np.full(7, 1 / 7))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(STRATEGY_NAMES), st.lists(probability_vector, min_size=1, max_size=80),
       st.sampled_from([5.0, 10.0, 15.0, 24.0, 30.0, 60.0]), st.integers(1, 10), st.integers(0, 2))
def test_any_stream_reaches_an_answer_within_the_bound(strategy, outputs, fps, every, repeat):
    """The pipeline's wiring (vote of the face -> candidate and smoothed scores), frame by frame."""
    cfg = MoodConfig()
    sm = MoodStateMachine(cfg)
    voter = Voter(voting_config(strategy))
    frame_ms = 1000.0 / fps
    frames = int(np.ceil((cfg.answer_within_ms + 2 * cfg.dwell_ms) / frame_ms)) + 1
    stream = [outputs[i % len(outputs)] for i in range(len(outputs) * (repeat + 1))]
    shown, shown_at = None, None
    for f in range(frames):
        t = f * frame_ms
        if f % every == 0 and f // every < len(stream):
            voter.feed(stream[f // every])
        vote = voter.current
        scores = {} if vote is None else dict(zip(voter.labels, vote.smoothed))
        sm.update(t, True, None if vote is None else vote.label, scores)
        snap = sm.snapshot
        if t >= cfg.answer_within_ms:
            assert snap.state in (MOOD, CANT_TELL), (t, snap)
        if snap.state == CANT_TELL and vote is not None:
            assert snap.leading_label in EMOTIONS and 0.0 <= snap.leading_probability <= 1.0
        now = snap.mood if snap.state == MOOD else snap.state
        if snap.answered and now != shown:
            if shown is not None:
                assert t - shown_at >= cfg.dwell_ms
            shown, shown_at = now, t
        assert snap.state != OBSERVING or t < cfg.answer_within_ms


def test_frame_logic_neutral_like_face_says_cant_tell_with_its_guess_within_the_bound():
    """A calm face whose top class stays near 0.45 (what the net gives real neutral faces)."""
    logic = FrameLogic(FrameLogicConfig(voting=voting_config("strict")))
    rng = np.random.default_rng(7)
    states = []
    for i in range(120):
        t = i * 1000 / 30
        p = np.array([0.05, 0.01, 0.08, 0.06, 0.30, 0.05, 0.45]) + rng.normal(0, 0.02, 7)
        p = np.clip(p, 1e-3, None)
        logic.begin_frame(t, 640, 480)
        logic.submit_faces(FACE)
        for req in logic.emotion_requests():
            logic.submit_emotion(req.face_id, p / p.sum())
        r = logic.end_frame()
        states.append((t, r.mood.state))
    answered = [t for t, s in states if s in (MOOD, CANT_TELL)]
    assert answered and answered[0] <= MoodConfig().answer_within_ms + 1000 / 30
    assert r.mood.state == CANT_TELL and r.mood.leading_label == "neutral"
    assert 0.35 < r.mood.leading_probability < 0.55
    assert headline(r.mood) == f"Can't tell, maybe neutral, {round(100 * r.mood.leading_probability)} %"
    face = r.faces[0]
    assert face.probabilities is not None and len(face.probabilities) == 7 and r.labels == EMOTIONS
    assert abs(sum(face.probabilities) - 1) < 1e-6 and face.leading_label == "neutral"
    d = r.to_dict()
    json.dumps(d)
    assert d["state"] == "cant_tell" and d["leading_label"] == "neutral" and len(d["faces"][0]["probabilities"]) == 7


def test_a_face_has_no_probabilities_before_its_first_emotion_run():
    logic = FrameLogic()
    logic.begin_frame(0.0, 640, 480)
    logic.submit_faces(FACE)
    r = logic.end_frame()
    assert r.faces[0].probabilities is None and r.faces[0].leading_label is None
    assert r.to_dict()["faces"][0]["probabilities"] is None
    assert r.mood.state == OBSERVING and r.mood.leading_label is None and r.mood.leading_probability == 0.0


def test_every_state_has_a_presentation_and_cant_tell_its_own_colour():
    for state in STATES:
        if state != MOOD:
            assert presentation_for(MoodSnapshot(state, None, 0)).key == state
    cant = PRESENTATIONS[CANT_TELL]
    others = [p for k, p in PRESENTATIONS.items() if k != CANT_TELL]
    assert all(cant.color != p.color and cant.symbol != p.symbol for p in others)
    assert headline(MoodSnapshot(CANT_TELL, None, 0)) == "Can't tell"
    assert headline(MoodSnapshot(CANT_TELL, None, 0, "neutral", 0.544)) == "Can't tell, maybe neutral, 54 %"
    assert headline(MoodSnapshot(MOOD, "happy", 0, "happy", 0.9)) == "Happy"
