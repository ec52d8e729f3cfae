"""Teach it your face, as a person meets it: teach two moods from a camera whose clip holds one
expression, then another; keep the calibration; the page reads each segment as its taught mood;
it survives a reload; export then import round-trips; a damaged file is refused with a message and
changes nothing; deleting it brings the generic net back.

The clip (tests/fixtures/cameras.py, teaching_file): the astronaut's smiling face for 6 s, then
the cameraman's calm one for 6 s, same place in the frame, looped (scikit-image, public domain /
CC0). The generic net reads them happy (100 %) and sad (about 62 %, neutral 20 %). The moods are
taught *swapped* on purpose: the smile as "sad", the calm face as "happy". The page can then only
read them so through the calibration, and the generic net, once back, reads them the other way
round: a calibration that is not applied, or applied to the wrong face, fails here. (The head's
probabilities replace the net's, docs/teach.md "Teach it your face".)

The test drives the segments: before teaching, the generic net's own top label of the face
(`#overlay[data-faces]`) says which expression is showing, so Record is pressed just after a
segment starts, and the picture tells the segments
apart afterwards, when the calibrated reading no longer can: the test looks at the camera picture
itself (the astronaut's photo is in colour, the cameraman's is grey).
"""
from __future__ import annotations

import json
import time

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e

SMILE_TAUGHT, CALM_TAUGHT = "sad", "happy"      # swapped on purpose (module docstring)
NAME = "Swapped test face"


def primary_face(app) -> dict | None:
    faces = app.faces()
    return next((f for f in faces if f.get("primary")), faces[0] if faces else None)


def showing(app) -> str:
    """Which segment the camera shows now: "smile" (a colour photo) or "calm" (a grey one)."""
    colour = app.page.evaluate("""() => {
        const video = document.getElementById('video');
        const canvas = Object.assign(document.createElement('canvas'), {width: 64, height: 48});
        const ctx = canvas.getContext('2d', {willReadFrequently: true});
        ctx.drawImage(video, 0, 0, 64, 48);
        const px = ctx.getImageData(0, 0, 64, 48).data;
        let sum = 0;
        for (let i = 0; i < px.length; i += 4) sum += Math.abs(px[i] - px[i + 2]);
        return sum / (px.length / 4);
    }""")
    return "smile" if colour > 4 else "calm"


def wait_segment_start(app, generic_label: str, timeout: float = 40.0) -> dict:
    """Wait until the generic net's top label is not `generic_label`, then is: a segment just began."""
    app.wait_for(lambda s: (f := primary_face(s)) is not None and f.get("top_label") not in (None, generic_label),
                 timeout, f"the other segment than {generic_label}")
    return app.wait_for(lambda s: (f := primary_face(s)) is not None and f.get("top_label") == generic_label and f,
                        timeout, f"a segment read {generic_label} by the generic net")


def teach_one(app, generic_label: str, step: int, segment: str) -> None:
    """Press Record as the segment the generic net reads `generic_label` begins; wait for the take."""
    wait_segment_start(app, generic_label)
    assert showing(app) == segment
    app.page.click("#teach-record")
    if step == 1:
        app.wait_for(lambda s: "(2 of 2)" in s.text("teach-instruction") or not s.page.is_hidden("#teach-review"),
                     30, "the first take to finish")
    else:
        app.wait_for(lambda s: s.page.is_visible("#teach-review"), 30, "the review")


def segment_moods(app, seconds: float) -> dict[str, list[str]]:
    """The committed mood at the end of each whole segment seen in `seconds`, per segment name."""
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        data = app.data()
        samples.append((showing(app), data.get("moodState"), data.get("mood")))
        time.sleep(0.2)
    runs: list[list] = []
    for sample in samples:
        if runs and runs[-1][0][0] == sample[0]:
            runs[-1].append(sample)
        else:
            runs.append([sample])
    out: dict[str, list[str]] = {"smile": [], "calm": []}
    for run in runs[1:-1]:                  # whole segments only (the first and last may be cut)
        last = [m for _, state, m in run if state == "mood"]
        out[run[0][0]].append(last[-1] if last else "none")
    return out


def stored_records(app) -> list[dict]:
    """IndexedDB's calibration records, read on the page (same origin as the worker's database)."""
    return app.page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open('moodcam-calibrations');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const db = open.result;
            if (!db.objectStoreNames.contains('calibrations')) { db.close(); return resolve([]); }
            const get = db.transaction('calibrations').objectStore('calibrations').getAll();
            get.onsuccess = () => { db.close(); resolve(get.result); };
            get.onerror = () => reject(get.error);
        };
    })""")


def export_file(app, tmp_path) -> str:
    with app.page.expect_download() as info:
        app.page.click("#calibration-export")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_text()


def test_teach_two_moods_then_read_switch_export_import_and_delete(server, tmp_path):
    from tests.fixtures.cameras import teaching_file

    y4m = teaching_file(tmp_path)
    with open_app(server, camera=y4m, query="?backend=wasm") as app:
        app.wait_state("running")
        app.wait_for(lambda s: primary_face(s) is not None and primary_face(s).get("top_label"), 90, "a first read")
        assert app.text("hud-calibration") == "generic net" and app.data().get("calibration") == ""

        # -- teach: only happy and sad ticked -------------------------------------------------------
        for mood in ("neutral", "surprise"):
            app.page.uncheck(f'input[name="teach-mood"][value="{mood}"]')
        app.page.focus("#teach-start")
        app.page.keyboard.press("Enter")          # keyboard operable
        app.wait_for(lambda s: s.page.is_visible("#teach-step"), 10, "the first step")
        assert "happy" in app.text("teach-instruction").lower()
        teach_one(app, "sad", 1, "calm")                      # happy taught on the calm face
        teach_one(app, "happy", 2, "smile")                   # sad taught on the smile
        result = app.text("teach-result")
        print(f"\nteach: {result} / {app.text('teach-per-mood')}")
        assert "cross-validated" in result and "generic net alone" in result
        assert "Skipped: no face" in app.text("teach-per-mood")
        assert "Calibration ready" in app.text("teach-status")       # also said through the live region
        app.screenshot("teach-review-1366x768")

        app.page.fill("#teach-name", NAME)
        app.page.click("#teach-accept")
        app.wait_for(lambda s: s.data().get("calibration") == NAME, 15, "the calibration switched on")
        assert app.text("hud-calibration") == NAME
        records = stored_records(app)
        assert [r["name"] for r in records] == [NAME]
        stored = json.loads(app.page.evaluate("() => localStorage.getItem('moodcam.settings.v1')"))
        assert stored["calibration"] == records[0]["id"]

        # -- each segment now reads as its taught mood -------------------------------------------
        moods = segment_moods(app, 27)
        print(f"calibrated: {moods}")
        assert moods["smile"] and set(moods["smile"]) == {SMILE_TAUGHT}, moods
        assert moods["calm"] and set(moods["calm"]) == {CALM_TAUGHT}, moods

        # -- export, then a damaged import changes nothing, then the export imports back ----------
        exported = export_file(app, tmp_path)
        assert json.loads(exported) == json.loads(records[0]["body"])
        damaged = tmp_path / "damaged.json"
        damaged.write_text(exported[: len(exported) // 2])
        app.page.set_input_files("#calibration-file", str(damaged))
        app.wait_for(lambda s: "not imported" in s.text("calibration-status"), 15, "the damaged file refused")
        assert "damaged.json" in app.text("calibration-status") and "Nothing was changed" in app.text("calibration-status")
        assert len(stored_records(app)) == 1 and app.data().get("calibration") == NAME
        foreign = tmp_path / "foreign.json"
        foreign.write_text(json.dumps({**json.loads(exported), "model": {"sha256": "0" * 64, "feature_size": 1}}))
        app.page.set_input_files("#calibration-file", str(foreign))
        app.wait_for(lambda s: "another emotion model" in s.text("calibration-status"), 15, "another model refused")
        assert len(stored_records(app)) == 1
        again = tmp_path / "again.json"
        again.write_text(exported)
        app.page.set_input_files("#calibration-file", str(again))
        app.wait_for(lambda s: len(stored_records(s)) == 2, 15, "the export imported back")
        bodies = [json.loads(r["body"]) for r in stored_records(app)]
        assert bodies[0] == bodies[1]

        # -- it survives a reload -----------------------------------------------------------------
        app.page.reload()
        app.wait_state("running")
        app.wait_for(lambda s: s.data().get("calibration") == NAME, 60, "the calibration back after a reload")
        assert app.text("hud-calibration") == NAME
        options = app.page.evaluate("() => [...document.querySelectorAll('#calibration-select option')].map(o => o.text)")
        assert options == ["generic net", NAME, NAME], options

        # -- readable at 390 px -----------------------------------------------------------------------
        app.page.set_viewport_size({"width": 390, "height": 844})
        assert app.page.evaluate("() => document.documentElement.scrollWidth") <= 390
        app.page.locator("#teach").scroll_into_view_if_needed()
        app.screenshot("teach-panel-390x844")
        app.page.set_viewport_size({"width": 1366, "height": 768})

        # -- delete the active one (the import): the first press only asks ------------------------------
        app.page.click("#calibration-delete")
        app.wait_for(lambda s: s.text("calibration-delete") == "Confirm delete", 15, "the delete question")
        assert "cannot be undone" in app.text("calibration-status"), app.text("calibration-status")
        assert len(stored_records(app)) == 2 and app.data().get("calibration") == NAME
        # -- the second press deletes it: the generic net is back, the other stays listed ---------------
        app.page.click("#calibration-delete")
        app.wait_for(lambda s: "Deleted" in s.text("calibration-status"), 15, "deleted")
        assert app.text("calibration-delete") == "Delete"
        assert app.data().get("calibration") == "" and app.text("hud-calibration") == "generic net"
        assert len(stored_records(app)) == 1
        moods = segment_moods(app, 27)
        print(f"generic again: {moods}")
        assert set(moods["smile"]) == {"happy"} and set(moods["calm"]) == {"sad"}, moods
        app.assert_network_clean()
