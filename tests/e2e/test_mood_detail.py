"""A mood that never stalls, probabilities you can see, a mood timeline (issue 14), as a person
meets them: a calm face gets an answer within the bound, a clip that switches expressions
changes the mood at most once per switch (a can't-tell between the two moods is part of
the switch), the bars and the timeline are drawn (screenshots at
phone and laptop sizes), and "Save session" downloads files that match what the page showed.

The clips (tests/fixtures/cameras.py): the astronaut's smiling face and the cameraman's calm one
(scikit-image, public domain / CC0), each centred in a 640x480 frame at the same place.
"""
from __future__ import annotations

import csv
import io
import json

import pytest

from moodcam.mood.state import MoodConfig

from .conftest import open_app

pytestmark = pytest.mark.e2e

BOUND_MS = MoodConfig().answer_within_ms
ANSWERED = ("mood", "cant_tell")


def save_session(app) -> tuple[dict, list[dict]]:
    """Click "Save session"; the two downloads, parsed (JSON, CSV rows)."""
    downloads: list = []

    def on_download(download) -> None:
        downloads.append(download)

    app.page.on("download", on_download)
    app.page.click("#save-session")
    for _ in range(100):                    # Playwright delivers events while it waits
        if len(downloads) >= 2:
            break
        app.page.wait_for_timeout(200)
    assert len(downloads) >= 2, f"downloads: {[d.suggested_filename for d in downloads]}"
    app.page.remove_listener("download", on_download)
    files = {}
    for download in downloads[:2]:
        files[download.suggested_filename.rsplit(".", 1)[1]] = open(download.path(), encoding="utf-8").read()
    return json.loads(files["json"]), list(csv.DictReader(io.StringIO(files["csv"])))


def test_a_calm_face_gets_an_answer_within_the_bound(server, tmp_path):
    from tests.fixtures.cameras import camera_file

    y4m, _ = camera_file("cameraman", tmp_path)
    with open_app(server, camera=y4m, query="?backend=wasm") as app:
        app.wait_for(lambda s: s.data().get("moodState") in ANSWERED, 90, "an answer for the calm face")
        label = app.text("mood-label")
        if app.data()["moodState"] == "cant_tell":
            # "Can't tell, maybe neutral, 54 %": the leading guess and its probability, in words.
            assert "maybe" in label and "%" in label, label
            assert app.data()["leading"]
        session, rows = save_session(app)
        segments = session["segments"]
        face_found = next(s for s in segments if s["faces"] > 0)
        answer = next(s for s in segments if s["state"] in ANSWERED)
        waited = answer["start_ms"] - face_found["start_ms"]
        print(f"\ncalm face: {label!r} after {waited:.0f} ms (bound {BOUND_MS:.0f} ms)")
        assert waited <= BOUND_MS + 250, segments[:6]            # the bound plus at most a frame or two
        assert len(rows) == len(segments)
        app.screenshot("calm-face-1366x768")   # its first answer, a mood or can't tell


def mood_changes(keys: list[str]) -> int:
    """Changes of what the page shows, where "happy, can't tell, sad" is one change: the passage of
    one switch of expression (the old mood's votes fade before the new one's lead). A can't-tell
    that returns to the mood it left is flicker and counts twice."""
    passage = {i for i in range(1, len(keys) - 1)
               if keys[i] == "cant_tell" and keys[i - 1] != keys[i + 1] and "cant_tell" not in (keys[i - 1], keys[i + 1])}
    shown = [k for i, k in enumerate(keys) if i not in passage]
    return sum(1 for a, b in zip(shown, shown[1:]) if a != b)


def test_mood_changes_count_a_passage_through_cant_tell_once():
    assert mood_changes(["sad", "happy", "cant_tell", "sad", "happy"]) == 3
    assert mood_changes(["happy", "cant_tell", "happy"]) == 2          # flicker
    assert mood_changes(["happy", "happy"]) == 0


def test_switching_expressions_change_the_mood_once_per_switch(server, tmp_path):
    from tests.fixtures.cameras import SWITCH_SECONDS, switching_file

    y4m = switching_file(tmp_path)
    watch_s = 6 * SWITCH_SECONDS
    with open_app(server, camera=y4m, query="?backend=wasm") as app:
        app.wait_for(lambda s: s.data().get("moodState") in ANSWERED, 90, "a first answer")
        app.page.wait_for_timeout(watch_s * 1000)
        session, _ = save_session(app)
        answered = [s for s in session["segments"] if s["state"] in ANSWERED or s["state"] == "observing"]
        first = next(i for i, s in enumerate(answered) if s["state"] in ANSWERED)
        keys = [s["key"] for s in answered[first:]]
        changes = mood_changes(keys)
        span_s = (answered[-1]["end_ms"] - answered[first]["start_ms"]) / 1000
        switches = span_s / SWITCH_SECONDS
        print(f"\nswitching: {changes} changes over {span_s:.1f} s ({switches:.1f} switches): {keys}")
        assert "happy" in keys, keys
        assert 1 <= changes <= switches + 1, keys


def test_bars_timeline_and_saved_session_match_the_page(server, cameras):
    for viewport, name in (((390, 844), "phone-390x844"), ((1366, 768), "laptop-1366x768")):
        with open_app(server, camera=cameras("astronaut"), query="?backend=wasm", viewport=viewport) as app:
            app.wait_for(lambda s: s.data().get("mood") == "happy", 90, "mood 'happy'")
            app.wait_for(lambda s: "Happy" in s.text("bars-text"), 30, "the probability bars")
            bars = app.page.evaluate("""() => { const c = document.getElementById('bars');
                const r = c.getBoundingClientRect(); return {hidden: c.hidden, w: r.width, h: r.height}; }""")
            assert not bars["hidden"] and bars["w"] > 200 and bars["h"] > 100, bars
            assert app.page.evaluate("() => document.documentElement.scrollWidth") <= viewport[0]
            legend = app.page.evaluate("() => [...document.querySelectorAll('#timeline-legend li')].map(li => li.textContent)")
            assert any(item.startswith("Happy") for item in legend), legend
            # Every colour has its word: the strip's legend names each key with its duration.
            assert all(":" in item for item in legend), legend
            app.screenshot(f"mood-detail-{name}")
            session, rows = save_session(app)
            last = session["segments"][-1]
            assert last["state"] == app.data()["moodState"] == "mood"
            assert last["mood"] == app.data()["mood"] == "happy" and last["faces"] == len(app.faces())
            assert rows[-1]["mood"] == "happy" and rows[-1]["key"] == "happy"
            assert all(r["start_ms"] and r["state"] for r in rows)
            app.assert_network_clean()


def test_bars_follow_their_control(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm") as app:
        app.wait_for(lambda s: s.data().get("mood") == "happy", 90, "mood 'happy'")
        app.page.click("#show-bars")
        app.wait_for(lambda s: s.page.evaluate("() => document.getElementById('bars').hidden"), 10, "bars hidden")
        stored = json.loads(app.page.evaluate("() => localStorage.getItem('moodcam.settings.v1')"))
        assert stored["show_bars"] is False
