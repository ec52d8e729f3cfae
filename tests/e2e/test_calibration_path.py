"""Issue 15, the engine side: in the real page, each face read by the emotion graph carries its 128 features,
and FaceAnalyser.set_calibration changes what the page reads, then gives the generic net back.

The engine runs on the page (?worker=0) so the test can reach its Python (window.moodcam.pyodide); the
teach-mode controls that drive the same setter from the page are tested with them (issue 15's e2e).
The head used here is fitted by fit_calibration on the features the page itself collected from the
astronaut clip (a smiling face the net reads as happy), taught as "surprise", against synthetic
"neutral" features (the same, shifted): the page must then read "surprise".
"""
from __future__ import annotations

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e

FIND_ANALYSER = """
import gc
from moodcam.browser.analyser import FaceAnalyser
_analysers = [o for o in gc.get_objects() if isinstance(o, FaceAnalyser)]
"""

COLLECT = FIND_ANALYSER + """
import numpy as np
_face = _analysers[0]
_seen = []
_analyse = _face.analyse
async def _recording(*args, **kwargs):
    result = await _analyse(*args, **kwargs)
    for f in result.faces:
        if f.features is not None:
            _seen.append(np.array(f.features))
    return result
_face.analyse = _recording
len(_analysers)
"""

CALIBRATE = """
from moodcam.calibration import fit_calibration
from moodcam.mood.labels import EMOTIONS
_x = np.stack(_seen[:40])                                              # (n, 128) from the page's own runs
_far = _x + np.abs(_x).mean() + np.random.default_rng(0).normal(0, 0.05, _x.shape)    # another mean
_fit = fit_calibration(np.concatenate([_x, _far]), ["surprise"] * len(_x) + ["neutral"] * len(_x),
                       emotion_labels=EMOTIONS)
_face.set_calibration(_fit.head)
[len(_seen), int(_x.shape[1]), _fit.cv_accuracy]
"""


def test_features_reach_the_analyser_and_a_calibration_decides_the_mood(server, cameras, tmp_path):
    from tests.fixtures.cameras import camera_file

    y4m, _ = camera_file("astronaut", tmp_path)
    with open_app(server, camera=y4m, query="?backend=wasm&worker=0") as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        app.wait_for(lambda s: s.data().get("mood") == "happy", 90, "the generic net's 'happy'")
        run = "(code) => window.moodcam.pyodide.runPython(code)"
        assert app.page.evaluate(run, COLLECT) == 1, "one face analyser in the engine"
        app.wait_for(lambda s: s.page.evaluate(run, "len(_seen)") >= 40, 60, "40 frames with features")
        seen, size, cv = app.page.evaluate("(code) => window.moodcam.pyodide.runPython(code).toJs()", CALIBRATE)
        assert size == 128 and cv == 1.0, (seen, size, cv)
        app.wait_for(lambda s: s.data().get("mood") == "surprise", 30, "the calibrated 'surprise'")
        app.page.evaluate(run, "_face.set_calibration(None)")
        app.wait_for(lambda s: s.data().get("mood") == "happy", 30, "'happy' again without the calibration")
