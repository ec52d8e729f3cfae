"""CadenceGovernor: the nets run less often on a slow device, never so rarely that a face goes unread
for longer than the mood's bound allows, and back to the person's cadence when the device keeps up."""
from __future__ import annotations

from moodcam.cadence import Cadence, CadenceGovernor, FrameCosts, GovernorConfig, choose_cadence, max_emotion_every

PERSON = Cadence(detect_every=3, emotion_every=2)


def run(governor: CadenceGovernor, frames: int, plain: float, detector: float, emotion: float, faces: int = 1):
    """Feed `frames` camera frames whose cost follows the current cadence; the cadences chosen."""
    chosen = []
    for i in range(frames):
        c = governor.current
        det = detector if i % c.detect_every == 0 else 0.0
        emo = emotion if faces and i % max(c.emotion_every, faces) == 0 else 0.0
        total = plain + det + emo
        new = governor.observe(total, det, emo, frame_interval_ms=max(total, 33.0), faces=faces)
        if new is not None:
            chosen.append(new)
    return chosen


def test_a_fast_device_keeps_the_persons_cadence():
    governor = CadenceGovernor(PERSON)
    assert run(governor, 300, plain=8.0, detector=10.0, emotion=6.0) == []
    assert governor.current == PERSON and not governor.adapted


def test_a_slow_device_stretches_the_detector_first_and_fits_the_budget():
    governor = CadenceGovernor(PERSON)
    run(governor, 300, plain=30.0, detector=60.0, emotion=20.0)     # a phone: 100 ms when both run
    c = governor.current
    assert governor.adapted and c.detect_every > PERSON.detect_every
    assert governor.costs.predict_ms(c, 1) <= GovernorConfig().budget_ms


def test_emotion_reads_never_sparser_than_the_mood_bound_allows():
    config = GovernorConfig()
    governor = CadenceGovernor(PERSON, config)
    run(governor, 600, plain=30.0, detector=200.0, emotion=60.0)    # nothing fits the budget
    c = governor.current
    interval = max(governor._interval_ms, config.budget_ms)
    assert c.emotion_every * interval <= config.max_read_interval_ms + 1e-9 or c.emotion_every == PERSON.emotion_every
    assert c.detect_every <= config.max_detect_every


def test_back_to_the_persons_cadence_when_the_device_keeps_up_again():
    governor = CadenceGovernor(PERSON)
    run(governor, 300, plain=30.0, detector=60.0, emotion=20.0)
    assert governor.adapted
    run(governor, 600, plain=5.0, detector=8.0, emotion=4.0)
    assert governor.current == PERSON


def test_changes_are_spaced_by_settle_frames():
    governor = CadenceGovernor(PERSON, GovernorConfig(settle_frames=30))
    changes = []
    for i in range(200):
        if governor.observe(150.0, 100.0, 30.0, 150.0, 1) is not None:
            changes.append(i)
    assert all(b - a >= 30 for a, b in zip(changes, changes[1:])) and changes[0] >= 29


def test_a_control_moved_by_the_person_is_their_cadence_again():
    governor = CadenceGovernor(PERSON)
    run(governor, 300, plain=30.0, detector=60.0, emotion=20.0)
    governor.set_person(Cadence(1, 1))
    assert governor.current == Cadence(1, 1) and not governor.adapted


def test_choose_and_caps_by_hand():
    costs = FrameCosts(plain_ms=10.0, detector_ms=60.0, emotion_ms=20.0)
    config = GovernorConfig(target_fps=20.0, max_detect_every=8)
    # 10 + 60/3 + 20*1/2 = 40 <= 50: fits as the person set it.
    assert choose_cadence(costs, PERSON, config, 50.0, 1) == PERSON
    # Two faces: 10 + 60/3 + 20 = 50 fits; three: still one read a frame, the same.
    assert choose_cadence(costs, PERSON, config, 50.0, 2) == PERSON
    tight = GovernorConfig(target_fps=30.0, max_detect_every=8)      # 33.3 ms: 10 + 60/D + 20/E
    assert choose_cadence(costs, PERSON, tight, 33.3, 1) == Cadence(5, 2)
    assert max_emotion_every(config, 50.0, 1) == 5 and max_emotion_every(config, 300.0, 1) == 1
