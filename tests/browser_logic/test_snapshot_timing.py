"""SnapshotTiming: the second interpreter starts only once the device can spare the CPU."""
from moodcam.browser.snapshot_timing import LATEST_MS, SETTLED_MS, SnapshotTiming
from moodcam.mood.state import MOOD, OBSERVING


def test_a_fast_device_keeps_it_once_the_first_answer_has_settled():
    t = SnapshotTiming(started_ms=0.0)
    assert not t.after_frame(1000.0, OBSERVING, keeping_up=True)          # no answer yet
    assert not t.after_frame(2000.0, MOOD, keeping_up=True)
    assert not t.after_frame(2000.0 + SETTLED_MS - 1, MOOD, keeping_up=True)
    assert t.after_frame(2000.0 + SETTLED_MS, MOOD, keeping_up=True)
    assert not t.after_frame(9000.0, MOOD, keeping_up=True)                # once only


def test_a_slow_device_waits_until_it_keeps_up_or_the_latest_time():
    t = SnapshotTiming(started_ms=0.0)
    for now in range(1000, int(LATEST_MS), 500):
        assert not t.after_frame(float(now), MOOD, keeping_up=False), now
    assert t.after_frame(LATEST_MS, MOOD, keeping_up=False)


def test_falling_behind_restarts_the_settling():
    t = SnapshotTiming(started_ms=0.0)
    t.after_frame(1000.0, MOOD, keeping_up=True)
    t.after_frame(2000.0, MOOD, keeping_up=False)
    assert not t.after_frame(1000.0 + SETTLED_MS, MOOD, keeping_up=True)
    assert t.after_frame(1000.0 + 2 * SETTLED_MS, MOOD, keeping_up=True)


def test_a_hidden_page_keeps_it_at_once_but_only_once():
    t = SnapshotTiming(started_ms=0.0)
    assert t.page_hidden()
    assert not t.page_hidden() and not t.after_frame(LATEST_MS, MOOD, keeping_up=True)
