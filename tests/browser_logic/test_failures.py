"""moodcam.browser.failures: every failure the page can show says what happened and how to go on.

CPython only (the module imports no js): the wording and the error-name mapping are data.
"""
from __future__ import annotations

import inspect

import pytest

from moodcam.browser import failures
from moodcam.browser.failures import Failure

# Sample arguments for each constructor's parameters, by name.
SAMPLES = {"name": "NotAllowedError", "detail": "some detail", "path": "models/x/model.json", "status": 404,
           "expected": "a" * 64, "actual": "b" * 64, "reason": "no WebGL2",
           "available": ["faces (BlazeFace)", "shapes_demo"], "task": "image_classification"}


def constructors():
    """Every public function of the module that returns a Failure."""
    out = []
    for name, fn in inspect.getmembers(failures, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != failures.__name__:
            continue
        if inspect.signature(fn).return_annotation in (Failure, "Failure"):
            out.append((name, fn))
    return out


def build(fn):
    params = inspect.signature(fn).parameters
    return fn(**{p: SAMPLES.get(p, "x") for p in params if params[p].default is inspect.Parameter.empty})


CAMERA_NAMES = ["NotAllowedError", "PermissionDeniedError", "SecurityError", "NotFoundError",
                "DevicesNotFoundError", "OverconstrainedError", "NotReadableError", "TrackStartError",
                "AbortError", "TypeError", "", "SomethingNew"]


def all_failures() -> list[Failure]:
    made = [build(fn) for _, fn in constructors()]
    made += [failures.camera_error(n) for n in CAMERA_NAMES]
    return made


def test_constructors_are_found():
    names = {n for n, _ in constructors()}
    assert {"camera_error", "model_missing", "model_checksum", "manifest_problem", "model_load",
            "backend_unavailable", "photo_unreadable", "unexpected", "insecure_context"} <= names


@pytest.mark.parametrize("failure", all_failures(), ids=lambda f: f.code)
def test_every_failure_has_message_and_way_forward(failure):
    assert failure.code and failure.code == failure.code.strip().lower() and " " not in failure.code
    assert failure.message.strip() and failure.message.rstrip().endswith((".", ")")), failure.message
    # A way forward: a fix in words, and a button unless only a reload helps... which is then the button.
    assert len(failure.fix.strip()) > 10, failure
    assert failure.action is None or isinstance(failure.action, failures.Action)
    assert failure.action is None or failure.action_label.strip()
    if failure.fatal:
        assert failure.action is failures.Action.RELOAD and "Reload" in failure.action_label, failure
    # Plain words: no Python reprs or tracebacks leak into the page.
    for text in (failure.message, failure.fix):
        assert "Traceback" not in text and "object at 0x" not in text


def test_codes_are_stable_ids():
    codes = {f.code for f in all_failures()}
    assert codes >= {"permission-denied", "no-camera", "camera-busy", "camera-error", "camera-ended",
                     "model-missing", "model-checksum", "model-manifest", "model-load", "backend",
                     "photo", "unexpected", "insecure-context", "model-unknown"}


@pytest.mark.parametrize("name,code", [
    ("NotAllowedError", "permission-denied"), ("PermissionDeniedError", "permission-denied"),
    ("SecurityError", "permission-denied"), ("NotFoundError", "no-camera"), ("OverconstrainedError", "no-camera"),
    ("NotReadableError", "camera-busy"), ("AbortError", "camera-busy"), ("TypeError", "camera-error"),
    ("", "camera-error"),
])
def test_camera_error_names_map_to_advice(name, code):
    f = failures.camera_error(name, "detail")
    assert f.code == code and f.action and not f.fatal


def test_unknown_camera_error_names_the_error():
    f = failures.camera_error("WeirdError", "it broke")
    assert "WeirdError" in f.message and "it broke" in f.message
    assert "unknown error" in failures.camera_error("").message


def test_model_failures_name_the_file_and_the_fix():
    f = failures.model_checksum("models/a/b.bin", "0123456789abcdef" * 4, "fedcba9876543210" * 4)
    assert "models/a/b.bin" in f.message and "0123456789ab" in f.message and "fedcba987654" in f.message
    assert "build.py site" in f.fix and f.fatal
    m = failures.model_missing("models/a/model.json", 404)
    assert "models/a/model.json" in m.message and "404" in m.message and m.fatal


def test_unknown_model_names_it_and_lists_the_available_ones():
    f = failures.unknown_model("nope", ["faces (BlazeFace)", "shapes_demo"])
    assert f.code == "model-unknown" and "nope" in f.message and not f.fatal
    assert "faces (BlazeFace), shapes_demo" in f.fix and f.action is failures.Action.DETECT_FACES
    assert f.action_label == "Detect faces instead"
    g = failures.not_a_detector("emotion_mini_xception", "image_classification", ["shapes_demo"])
    assert "emotion_mini_xception" in g.message and "image_classification" in g.message and "shapes_demo" in g.fix


def test_unexpected_detail_is_bounded():
    f = failures.unexpected("x" * 5000)
    assert len(f.fix) < 400


def test_notes_say_what_and_why():
    note = failures.webgl_fallback_note("no EXT_color_buffer_float")
    assert "wasm" in note and "no EXT_color_buffer_float" in note
    assert "wasm" in failures.context_lost_note()


def test_every_action_has_a_label_and_a_stable_value():
    # The page's button carries the value (data-action); the session acts on the enum, never the label.
    assert {a.value for a in failures.Action} == {"reload", "pick-photo", "detect-faces", "restart-camera",
                                                  "retry-camera"}
    for action in failures.Action:
        assert failures.ACTION_LABELS[action].strip()


def test_camera_blocked_reasons_from_the_page():
    assert failures.camera_blocked("insecure-context").code == "insecure-context"
    assert failures.camera_blocked("no-camera-api").code == "no-camera"


def test_crashed_is_fatal_with_reload_and_bounded():
    f = failures.crashed("RuntimeError: " + "y" * 5000)
    assert f.fatal and f.action is failures.Action.RELOAD and len(f.fix) < 400
