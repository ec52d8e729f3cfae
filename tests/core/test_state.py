import pytest
from hypothesis import given, settings, strategies as st

from moodcam.mood.state import (
    MOOD,
    NO_FACE,
    OBSERVING,
    PAUSED,
    STARTING,
    FaceFound,
    FaceLost,
    MoodChanged,
    MoodConfig,
    MoodStateMachine,
    Paused,
    Resumed,
    StateChanged,
)

CFG = MoodConfig(dwell_ms=1000, no_face_timeout_ms=1500)


def kinds(events):
    return [e.kind for e in events]


def test_starting_to_observing_to_mood_after_dwell():
    sm = MoodStateMachine(CFG)
    assert sm.state == STARTING
    ev = sm.update(0, True, "happy")
    assert kinds(ev) == ["face_found", "state_changed"] and sm.state == OBSERVING
    assert sm.update(999, True, "happy") == []
    ev = sm.update(1000, True, "happy")
    assert ev == [MoodChanged(1000, None, "happy"), StateChanged(1000, OBSERVING, MOOD)]
    assert (sm.state, sm.mood) == (MOOD, "happy")


def test_flicker_does_not_change_the_mood():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, "happy")
    sm.update(1000, True, "happy")
    for t in range(1100, 5000, 100):
        sm.update(t, True, "sad" if (t // 100) % 2 == 0 else None)
    assert sm.mood == "happy"
    # A steady new mood wins after the dwell time.
    sm.update(5000, True, "sad")
    sm.update(5999, True, "sad")
    assert sm.mood == "happy"
    sm.update(6000, True, "sad")
    assert sm.mood == "sad"


def test_uncertainty_must_also_hold_to_leave_a_mood():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, "happy")
    sm.update(1000, True, "happy")
    sm.update(1100, True, None)
    assert sm.state == MOOD
    sm.update(2100, True, None)
    assert (sm.state, sm.mood) == (OBSERVING, None)


def test_face_lost_after_timeout_and_found_again():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, "happy")
    sm.update(1000, True, "happy")
    assert sm.update(2000, False) == []
    ev = sm.update(2500, False)
    assert ev == [FaceLost(2500), MoodChanged(2500, "happy", None), StateChanged(2500, MOOD, NO_FACE)]
    ev = sm.update(2600, True, "happy")
    assert isinstance(ev[0], FaceFound) and sm.state == OBSERVING  # the mood must be earned again


def test_starting_without_a_face_times_out_to_no_face():
    sm = MoodStateMachine(CFG, start_ms=100)
    sm.update(1000, False)
    assert sm.state == STARTING
    assert kinds(sm.update(1600, False)) == ["state_changed"] and sm.state == NO_FACE


def test_pause_and_resume():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, "sad")
    sm.update(1000, True, "sad")
    ev = sm.pause(1200)
    assert isinstance(ev[0], Paused) and sm.state == PAUSED and sm.mood is None
    assert sm.update(1300, True, "sad") == [] and sm.pause(1300) == []
    ev = sm.resume(5000)
    assert isinstance(ev[0], Resumed) and sm.state == STARTING
    sm.update(5001, True, "sad")
    sm.update(5500, True, "sad")
    assert sm.mood is None  # evidence from before the pause does not count


def test_time_must_not_go_backwards():
    sm = MoodStateMachine(CFG)
    sm.update(100, True)
    with pytest.raises(ValueError, match="must not decrease"):
        sm.update(50, True)


def test_event_dicts_name_their_kind():
    d = MoodChanged(5, "sad", "happy").to_dict()
    assert d == {"timestamp_ms": 5, "previous": "sad", "mood": "happy", "kind": "mood_changed"}


step = st.tuples(
    st.integers(0, 400),                                           # ms since the previous update
    st.sampled_from(["update", "update", "update", "update", "pause", "resume"]),
    st.booleans(),                                                 # face present
    st.sampled_from([None, "happy", "sad", "angry"]),              # candidate
)


@settings(max_examples=100, deadline=None)
@given(st.lists(step, min_size=1, max_size=120), st.integers(0, 1500), st.integers(0, 2000))
def test_mood_never_changes_faster_than_dwell(steps, dwell, timeout):
    sm = MoodStateMachine(MoodConfig(dwell_ms=dwell, no_face_timeout_ms=timeout))
    t = 0
    history = []  # (t, face, candidate) for updates that were not ignored
    entered = []  # (t, mood) for each MoodChanged into a label
    for dt, action, face, cand in steps:
        t += dt
        if action == "pause":
            sm.pause(t)
            history.append((t, None, "<paused>"))
            continue
        if action == "resume":
            sm.resume(t)
            continue
        paused = sm.state == PAUSED
        events = sm.update(t, face, cand)
        if not paused:
            history.append((t, face, cand))
        for e in events:
            if isinstance(e, MoodChanged) and e.mood is not None:
                entered.append((e.timestamp_ms, e.mood, len(history)))
        if sm.state == MOOD:
            assert sm.mood is not None
        else:
            assert sm.mood is None
    for (t0, _, _), (t1, _, _) in zip(entered, entered[1:]):
        assert t1 - t0 >= dwell
    for te, mood, n_seen in entered:
        # The run of updates ending at te that all saw a face with this very
        # candidate must have started at least `dwell` ms earlier.
        upto = history[:n_seen]
        run_start = te
        for h in reversed(upto):
            if h[1] is True and h[2] == mood:
                run_start = h[0]
            else:
                break
        assert te - run_start >= dwell
