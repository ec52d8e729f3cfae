"""Calibration files made to hurt, as a person meets them (issue 30): each import ends in a refusal
in the panel while the camera keeps running; a calibration stored by an older version whose
numbers make NaN moods (the issue's file: it was stored, switched on and remembered, and stopped the
camera on every start) is switched off at start-up, with the reason, and the choice is forgotten;
and a calibration that fails while reading is switched off the same way, the camera going on.

The files are built here for this page's emotion net (its model_sha256 from the site's manifest), so
only the hostile part of each is wrong. FrameLogic's side is in tests/core/test_reading_skips.py, what
the page says in tests/browser_logic/test_calibration_hostile.py.
"""
from __future__ import annotations

import json

import pytest

from .conftest import open_app
from .test_calibration import stored_records

pytestmark = pytest.mark.e2e

SETTINGS_KEY = "moodcam.settings.v1"


def crafted(site, **changes) -> dict:
    """A calibration for this page's emotion net, every field right but `changes`."""
    from moodcam.manifest import parse_manifest

    entry = parse_manifest((site / "models" / "manifest.json").read_bytes())["emotion_mini_xception"]
    d = entry.feature_size
    body = {"format": "moodcam-calibration", "version": 1, "name": "Crafted",
            "model": {"sha256": entry.model_sha256, "feature_size": d}, "labels": ["happy", "sad"],
            "method": "nearest_mean", "mean": [0.0] * d, "scale": [1.0] * d, "weights": [[0.01, -0.01]] * d,
            "bias": [0.0, 0.0], "cv_accuracy": 1.0, "generic_accuracy": None, "counts": {"happy": 10, "sad": 10}}
    body.update(changes)
    return body


def frames(app) -> int:
    return int(app.data().get("frames", "0") or 0)


def assert_camera_runs(app) -> None:
    """Still running, no error shown, and frames still being read."""
    assert app.data().get("appState") == "running", app.data()
    assert app.error()["hidden"], app.error()
    app.wait_frames(frames(app) + 10, timeout=30)


def wait_for_answer(app, timeout: float, what: str = "an answer") -> None:
    app.wait_for(lambda s: s.data().get("moodState") in ("mood", "cant_tell"), timeout, what)


def calibration_status(app, needles: tuple[str, ...], timeout: float, what: str) -> str:
    """The calibration panel's status once it says every one of `needles` (printed, for the log)."""
    def says_them(s):
        text = s.text("calibration-status")
        return all(n in text for n in needles) and text

    status = app.wait_for(says_them, timeout, what)
    print(f"\n{status}")
    return status


def stored_settings(app) -> dict:
    return json.loads(app.page.evaluate(f"() => localStorage.getItem('{SETTINGS_KEY}')"))


def assert_generic_net(app) -> None:
    """No calibration on, and the HUD says so."""
    assert app.data().get("calibration") == "" and app.text("hud-calibration") == "generic net"


def test_hostile_files_are_refused_and_the_camera_keeps_running(server, site, cameras, tmp_path):
    d = len(crafted(site)["mean"])
    files = {                                    # name: (text, what the refusal says)
        "huge-weights.json": (json.dumps(crafted(site, weights=[[1e308, -1e308]] * d)), "overflow"),  # NaN moods
        "tiny-scales.json": (json.dumps(crafted(site, scale=[1e-320] * d)), "overflow"),
        "deep.json": ("[" * 200_000 + "]" * 200_000, "nests 200000 levels deep"),   # RecursionError before
        "big-integer.json": (json.dumps(crafted(site, bias=[10 ** 400, 0])), "too large"),   # OverflowError before
    }
    with open_app(server, camera=cameras("astronaut")) as app:
        app.wait_state("running")
        wait_for_answer(app, 90, "a first answer")
        for name, (text, problem) in files.items():
            path = tmp_path / name
            path.write_text(text)
            app.page.set_input_files("#calibration-file", str(path))
            status = calibration_status(app, (name, "not imported"), 20, f"{name} refused")
            assert problem in status and "Nothing was changed" in status and len(status) < 500
            assert_camera_runs(app)
            assert app.data().get("calibration") == "" and stored_records(app) == []
        app.assert_network_clean()


def test_a_stored_calibration_that_makes_nan_is_switched_off_at_start_and_forgotten(server, site, cameras):
    body = json.dumps(crafted(site, name="Old crafted", scale=[1e-320] * len(crafted(site)["mean"])))
    with open_app(server, camera=cameras("astronaut")) as app:
        app.wait_state("running")
        # As an older version stored it: the record in IndexedDB, and the choice remembered.
        app.page.evaluate("""([body, key]) => new Promise((resolve, reject) => {
            const open = indexedDB.open('moodcam-calibrations');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const db = open.result;
                const put = db.transaction('calibrations', 'readwrite').objectStore('calibrations')
                    .put({id: 'c1', name: 'Old crafted', created_ms: 0, body});
                put.onsuccess = () => { db.close(); resolve(); };
                put.onerror = () => reject(put.error);
            };
        }).then(() => {
            const settings = JSON.parse(localStorage.getItem(key) || '{}');
            settings.calibration = 'c1';
            localStorage.setItem(key, JSON.stringify(settings));
        })""", [body, SETTINGS_KEY])
        app.page.reload()
        app.wait_state("running")
        status = calibration_status(app, ("cannot be used",), 60, "the stored calibration refused")
        assert "Old crafted" in status and "overflow" in status and "generic net" in status
        assert_generic_net(app)
        assert stored_settings(app)["calibration"] == ""        # not switched on again after the next reload
        assert [r["name"] for r in stored_records(app)] == ["Old crafted"]     # listed, to delete
        wait_for_answer(app, 90)
        assert_camera_runs(app)
        app.assert_network_clean()


# In the engine: the running face analyser's FrameLogic is handed a head no file can carry any more
# (scales of 1e-320), standing in for a calibration that fails while reading.
BREAK_THE_HEAD = """() => moodcam.pyodide.runPython(`
import gc
import numpy as np
from moodcam.browser.analyser import FaceAnalyser
from moodcam.calibration_head import CalibrationHead
face = next(o for o in gc.get_objects() if isinstance(o, FaceAnalyser))
h = face.logic.calibration
face.logic.set_calibration(CalibrationHead(h.labels, h.method, h.mean, np.full(h.feature_size, 1e-320),
                                           h.weights, h.bias))
h.labels`)"""


def test_a_calibration_that_fails_while_reading_is_switched_off_and_the_person_told(server, site, cameras,
                                                                                     tmp_path):
    path = tmp_path / "fine.json"
    path.write_text(json.dumps(crafted(site, name="Fine until now")))
    with open_app(server, camera=cameras("astronaut")) as app:
        app.wait_state("running")
        app.page.set_input_files("#calibration-file", str(path))
        app.wait_for(lambda s: s.data().get("calibration") == "Fine until now", 20, "the import switched on")
        record_id = stored_records(app)[0]["id"]
        assert stored_settings(app)["calibration"] == record_id
        assert list(app.engine_eval(BREAK_THE_HEAD)) == ["happy", "sad"]
        status = calibration_status(app, ("switched off",), 30, "the failing calibration switched off")
        assert "Fine until now" in status and "NaN or infinite moods" in status and "generic net" in status
        assert_generic_net(app)
        assert stored_settings(app)["calibration"] == ""         # forgotten: the next start reads generic
        assert_camera_runs(app)
        wait_for_answer(app, 60)
