"""moodcam.mood.timeline: segments, the two-minute strip, the saved session file."""
from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from moodcam.mood.timeline import MoodTimeline, timeline_key


def test_changes_make_segments_and_repeats_extend_them():
    tl = MoodTimeline()
    for t in range(0, 1000, 100):
        tl.add(t, "observing", None, 1)
    tl.add(1000, "mood", "happy", 1, "Happy")
    tl.add(1500, "mood", "happy", 1, "Happy")
    tl.add(1600, "no_face", None, 0)
    assert [(s.state, s.mood, s.start_ms, s.end_ms) for s in tl.segments] == [
        ("observing", "", 0, 1000), ("mood", "happy", 1000, 1600), ("no_face", "", 1600, 1600)]
    assert timeline_key("mood", "happy") == "happy" and timeline_key("cant_tell", "neutral") == "cant_tell"


def test_strip_is_clipped_to_the_window():
    tl = MoodTimeline(window_ms=1000)
    tl.add(0, "observing", None, 1)
    tl.add(500, "mood", "sad", 1)
    tl.add(3000, "mood", "happy", 1)
    tl.add(3400, "mood", "happy", 1)
    assert tl.strip(3400) == [(2400, 3000, "sad"), (3000, 3400, "happy")]


def test_saved_files_parse_and_agree():
    tl = MoodTimeline(started_at_unix_ms=1.7e12)
    tl.add(0, "observing", None, 1, "Observing")
    tl.add(800, "mood", "happy", 2, "Happy")
    tl.add(900, "mood", "happy", 2, "Happy")
    data = json.loads(tl.to_json())
    rows = list(csv.DictReader(io.StringIO(tl.to_csv())))
    assert data["format"] == "moodcam-session/1" and len(data["segments"]) == len(rows) == 2
    assert rows[1]["mood"] == data["segments"][1]["mood"] == "happy" and rows[1]["faces"] == "2"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e4), st.sampled_from(["observing", "mood", "no_face"]),
                          st.sampled_from(["happy", "sad", None]), st.integers(0, 3)), max_size=60))
def test_segments_are_ordered_and_bounded(events):
    tl = MoodTimeline(max_segments=20)
    for t, state, mood, faces in sorted(events, key=lambda e: e[0]):
        tl.add(t, state, mood, faces)
    assert len(tl.segments) <= 20
    assert all(a.end_ms <= b.start_ms + 1e-9 and a.start_ms <= a.end_ms for a, b in zip(tl.segments, tl.segments[1:]))
