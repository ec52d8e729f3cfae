"""What does the auto range cost per frame against near only? (issue 27)

    MOODCAM_DIST=/tmp/dist-faces .venv/bin/python -m pytest -q tests/e2e/measure_auto_cost.py -p no:cacheprovider -s

Not collected by the e2e suite (run it by name). In one run of headless Chromium on wasm, the
app at its default cadence (detector every 3rd frame, emotions every 2nd per face; ?adapt=0 so both
keep it) with ?range=near and with the default (auto), on one face (scenes "one_large", 250 px)
and a group (scenes "group4", 4 faces of 56-120 px), alternating twice; each window waits 120
frames, then samples the page's per-frame averages (data-perf: total_ms, detector_ms) 12 times over
6 s. Medians go to stdout and test-results/auto_cost.json.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from tests.fixtures import scenes
from tests.fixtures.cameras import y4m_from_png

from .conftest import open_app

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def window(server, clip: Path, query: str) -> dict:
    with open_app(server, camera=clip, query=query) as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        app.wait_frames(120, timeout=120)
        samples = []
        for _ in range(12):
            app.page.wait_for_timeout(500)
            samples.append(json.loads(app.data()["perf"]))
        return {k: round(statistics.median(s[k] for s in samples), 2) for k in ("total_ms", "detector_ms", "fps")}


def test_measure_auto_against_near(server, tmp_path):
    clips = {}
    for name in ("one_large", "group4"):
        png = scenes.write_all(tmp_path)[name]
        clips[name] = y4m_from_png(png, tmp_path / f"{name}.y4m")
    runs: dict = {}
    for _ in range(2):
        for rng in ("near", "auto"):
            for name, clip in clips.items():
                r = window(server, clip, f"?backend=wasm&adapt=0&range={rng}")
                runs.setdefault(f"{rng}/{name}", []).append(r)
    report = {}
    for key, rs in runs.items():
        report[key] = {k: round(statistics.median(r[k] for r in rs), 2) for k in rs[0]}
    for name in clips:
        near, auto = report[f"near/{name}"], report[f"auto/{name}"]
        report[f"ratio/{name}"] = round(auto["total_ms"] / near["total_ms"], 2)
        print(f"{name}: near {near}, auto {auto}, auto/near per frame {report[f'ratio/{name}']}")
    out = ROOT / "test-results"
    out.mkdir(exist_ok=True)
    (out / "auto_cost.json").write_text(json.dumps(report, indent=2) + "\n")
