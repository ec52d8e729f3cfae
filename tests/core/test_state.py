import pytest
from hypothesis import given, settings, strategies as st

from moodcam.mood.state import (
    CANT_TELL,
    MOOD,
    NO_FACE,
    OBSERVING,
    PAUSED,
    STARTING,
    FaceFound,
    FaceLost,
    GuessChanged,
    MoodChanged,
    MoodConfig,
    MoodStateMachine,
    Paused,
    Resumed,
    StateChanged,
)

CFG = MoodConfig(dwell_ms=1000, no_face_timeout_ms=1500, first_dwell_ms=500, answer_within_ms=3000)


def kinds(events):
    return [e.kind for e in events]


def test_starting_to_observing_to_mood_after_the_first_dwell():
    sm = MoodStateMachine(CFG)
    assert sm.state == STARTING
    ev = sm.update(0, True, "happy")
    assert kinds(ev) == ["face_found", "state_changed"] and sm.state == OBSERVING
    assert sm.update(499, True, "happy") == []
    ev = sm.update(500, True, "happy")   # the first answer needs first_dwell_ms only
    assert ev == [MoodChanged(500, None, "happy"), StateChanged(500, OBSERVING, MOOD)]
    assert (sm.state, sm.mood) == (MOOD, "happy")


def test_flicker_does_not_change_the_mood():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, "happy")
    sm.update(1000, True, "happy")
    # Votes that keep coming back to the shown mood never move it.
    for t in range(1100, 5000, 100):
        sm.update(t, True, "sad" if (t // 100) % 2 == 0 else "happy")
        assert sm.mood == "happy"
    # Flicker between another label and None never shows that label; once the votes have not
    # supported the mood for the dwell, the page says so, once: can't tell.
    events = []
    for t in range(5000, 9000, 100):
        events += sm.update(t, True, "sad" if (t // 100) % 2 == 0 else None)
    assert [e for e in events if isinstance(e, StateChanged)] == [StateChanged(6000, MOOD, CANT_TELL)]
    assert sm.state == CANT_TELL
    # A steady new mood wins after the dwell time.
    sm.update(9000, True, "sad")
    sm.update(9999, True, "sad")
    assert sm.state == CANT_TELL
    sm.update(10000, True, "sad")
    assert sm.mood == "sad"


def test_uncertainty_must_also_hold_to_leave_a_mood():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, "happy")
    sm.update(1000, True, "happy")
    sm.update(1100, True, None, {"happy": 0.5, "sad": 0.3})
    assert sm.state == MOOD
    sm.update(2100, True, None)
    # After an answer the face never goes back to observing: it is "can't tell" with a guess.
    assert (sm.state, sm.mood, sm.guess) == (CANT_TELL, None, "happy")


def test_a_mood_the_votes_no_longer_support_gives_way_to_cant_tell():
    # The face changed; its votes wander between labels (none holds for the dwell) or None.
    sm = MoodStateMachine(CFG)
    sm.update(0, True, "happy")
    sm.update(500, True, "happy")
    assert sm.mood == "happy"
    wander = ["sad", "neutral", None, "sad", "neutral", "sad"]
    for i, t in enumerate(range(600, 1600, 200)):
        sm.update(t, True, wander[i % len(wander)], {"sad": 0.4, "neutral": 0.38})
        assert sm.mood == "happy"
    ev = sm.update(1600, True, "neutral", {"sad": 0.4, "neutral": 0.38})
    assert ev == [MoodChanged(1600, "happy", None), StateChanged(1600, MOOD, CANT_TELL)]
    assert sm.guess == "sad"
    # One vote back for the shown mood restarts the count.
    sm2 = MoodStateMachine(CFG)
    sm2.update(0, True, "happy")
    sm2.update(500, True, "happy")
    for t, c in ((600, "sad"), (1000, "neutral"), (1400, "happy"), (1500, "sad"), (2300, "neutral")):
        sm2.update(t, True, c)
        assert sm2.mood == "happy"
    sm2.update(2500, True, "sad")
    assert sm2.state == CANT_TELL


def test_cant_tell_within_the_bound_with_the_leading_guess():
    sm = MoodStateMachine(CFG)
    scores = {"neutral": 0.54, "sad": 0.3, "happy": 0.16}
    for t in range(0, 3000, 100):
        sm.update(t, True, None, scores)
        assert sm.state == OBSERVING
    snap = sm.snapshot
    assert (snap.leading_label, snap.leading_probability) == ("neutral", 0.54)   # the leader while observing
    ev = sm.update(3000, True, None, scores)
    assert ev == [StateChanged(3000, OBSERVING, CANT_TELL)]
    snap = sm.snapshot
    assert (snap.state, snap.mood, snap.leading_label, snap.leading_probability) == (CANT_TELL, None, "neutral", 0.54)
    assert snap.answered


def test_cant_tell_guess_changes_only_after_dwell_and_its_probability_is_live():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, None, {"neutral": 0.5, "sad": 0.4})
    sm.update(3000, True, None, {"neutral": 0.5, "sad": 0.4})
    assert sm.guess == "neutral"
    sm.update(3100, True, None, {"neutral": 0.4, "sad": 0.45})
    assert sm.guess == "neutral" and sm.snapshot.leading_probability == 0.4   # shown guess, latest score
    assert sm.update(4099, True, None, {"neutral": 0.4, "sad": 0.45}) == []
    assert sm.update(4100, True, None, {"neutral": 0.4, "sad": 0.45}) == [GuessChanged(4100, "neutral", "sad")]
    assert sm.snapshot.leading_label == "sad" and sm.state == CANT_TELL


def test_cant_tell_to_a_mood_needs_the_full_dwell():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, None)
    sm.update(3000, True, None)
    assert sm.state == CANT_TELL and sm.snapshot.leading_label is None   # no scores yet: "Can't tell"
    sm.update(3100, True, "happy", {"happy": 0.7})
    sm.update(3700, True, "happy", {"happy": 0.7})
    assert sm.state == CANT_TELL          # first_dwell is for the first answer only
    ev = sm.update(4100, True, "happy", {"happy": 0.7})
    assert ev == [MoodChanged(4100, None, "happy"), StateChanged(4100, CANT_TELL, MOOD)]
    assert (sm.snapshot.leading_label, sm.snapshot.leading_probability) == ("happy", 0.7)


def test_a_change_waits_for_dwell_after_the_last_answer_even_if_the_candidate_held_longer():
    sm = MoodStateMachine(CFG)
    sm.update(0, True, None)
    sm.update(2800, True, "sad")          # not held for first_dwell before the bound
    assert sm.update(3000, True, "sad") and sm.state == CANT_TELL
    sm.update(3500, True, "sad")          # held 700 ms, but "can't tell" has been shown for 500 only
    assert sm.state == CANT_TELL
    sm.update(4000, True, "sad")
    assert (sm.state, sm.mood) == (MOOD, "sad")


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
    st.sampled_from([None, "happy", "sad", "neutral"]),            # leader of the scores
)


@settings(max_examples=200, deadline=None)
@given(st.lists(step, min_size=1, max_size=120), st.integers(0, 1500), st.integers(0, 1500), st.integers(0, 4000),
       st.integers(0, 2000))
def test_answers_never_change_faster_than_their_dwell(steps, dwell, first_dwell, bound, timeout):
    cfg = MoodConfig(dwell_ms=dwell, first_dwell_ms=first_dwell, answer_within_ms=bound, no_face_timeout_ms=timeout)
    sm = MoodStateMachine(cfg)
    t = 0
    history = []      # (t, face, candidate) of updates that were not ignored; "<gap>" breaks runs
    shown = None      # the answer on screen: a mood, "?" for can't tell, None before an answer
    shown_at = None
    for dt, action, face, cand, leader in steps:
        t += dt
        if action == "pause":
            sm.pause(t)
            history.append((t, None, "<gap>"))
            shown, shown_at = None, None
            continue
        if action == "resume":
            sm.resume(t)
            continue
        paused = sm.state == PAUSED
        scores = None if leader is None else {leader: 0.6, "fear": 0.1}
        events = sm.update(t, face, cand, scores)
        if paused:
            assert events == []
            continue
        history.append((t, face, cand))
        assert (sm.state == MOOD) == (sm.mood is not None)
        now = sm.mood if sm.state == MOOD else "?" if sm.state == CANT_TELL else None
        if now is None:
            shown, shown_at = None, None
            continue
        if now != shown:
            first = shown is None
            if not first:
                assert t - shown_at >= dwell                 # a shown answer lasts at least dwell_ms
            if now != "?":
                # The new mood was the candidate on every update (with a face) for the dwell:
                # first_dwell_ms for the first answer, dwell_ms for a change.
                need = first_dwell if first else dwell
                run_start = t
                for h in reversed(history):
                    if h[1] is True and h[2] == now:
                        run_start = h[0]
                    else:
                        break
                assert t - run_start >= need
            elif shown is not None:
                # A mood gives way to can't tell only after the candidate differed from it on
                # every update for dwell_ms.
                run_start = t
                for h in reversed(history):
                    if h[1] is True and h[2] != shown and h[0] >= shown_at:
                        run_start = h[0]
                    else:
                        break
                assert t - run_start >= dwell
            shown, shown_at = now, t
