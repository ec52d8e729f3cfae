"""The calibration fit, its rule for use, and its file (moodcam.calibration); runs in CPython and Pyodide."""
import json
import math

import numpy as np
import pytest

from moodcam.calibration import (DEFAULT_METHOD, METHODS, CalibrationFormatError, calibrated_probabilities,
                                 calibration_from_json, calibration_to_json, fit_calibration)
from moodcam.mood.labels import EMOTIONS

D = 128
SHA = "ab" * 32
TAUGHT = ("happy", "sad", "surprise", "neutral")


def separable(moods=TAUGHT, per_mood=60, seed=0, spread=0.3):
    """Frames of each mood around its own centre, drifting slowly (like a face held for 3 s), shuffled by mood
    blocks as teach mode collects them; ReLU-like positive features of the size the net gives."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.0, 2.0, D)
    rows, labels = [], []
    for mood in moods:
        centre = base + rng.normal(0.0, 1.0, D)
        drift = np.cumsum(rng.normal(0.0, spread / 10, (per_mood, D)), axis=0)
        rows.append(centre + drift + rng.normal(0.0, spread, (per_mood, D)))
        labels += [mood] * per_mood
    return np.concatenate(rows), labels


def generic_for(labels, seed=1):
    """A generic net that is unsure: the right mood gets about as much as 'sad'."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(len(EMOTIONS)) * 2, len(labels))
    return p


@pytest.mark.parametrize("method", METHODS)
def test_separable_features_reach_100_percent_cross_validated(method):
    x, labels = separable()
    fit = fit_calibration(x, labels, emotion_labels=EMOTIONS, generic_probabilities=generic_for(labels),
                          method=method)
    assert fit.cv_accuracy == 1.0
    assert fit.head.labels == TAUGHT and fit.head.method == method
    assert fit.counts == {m: 60 for m in TAUGHT}
    p = fit.head.predict_proba(x)
    assert p.shape == (240, 4) and np.allclose(p.sum(axis=1), 1.0)
    assert (p.argmax(axis=1) == np.repeat(np.arange(4), 60)).all()
    assert 0.0 <= fit.generic_accuracy < 0.5


def test_unseparable_features_are_reported_as_chance_not_perfect():
    # Same distribution for every mood: the held-out accuracy must say so (the CV can fail).
    rng = np.random.default_rng(3)
    x = rng.normal(1.0, 0.5, (200, D))
    labels = [m for m in ("happy", "sad") for _ in range(100)]
    fit = fit_calibration(x, labels, emotion_labels=EMOTIONS)
    assert fit.cv_accuracy < 0.75
    assert math.isnan(fit.generic_accuracy)


def test_cross_validation_holds_out_contiguous_blocks():
    # Each mood's frames drift from one state to another; a random split would interleave them and look
    # perfect, contiguous blocks see the drift and the moods overlap in the middle.
    rng = np.random.default_rng(5)
    t = np.linspace(0.0, 1.0, 50)[:, None]
    a, b = rng.normal(0, 1, D), rng.normal(0, 1, D)
    happy = a * (1 - t) + b * t + rng.normal(0, 0.01, (50, D))
    sad = b * (1 - t) + a * t + rng.normal(0, 0.01, (50, D))
    fit = fit_calibration(np.concatenate([happy, sad]), ["happy"] * 50 + ["sad"] * 50, emotion_labels=EMOTIONS)
    assert fit.cv_accuracy < 0.9


def test_taught_labels_follow_the_net_order_whatever_the_teaching_order():
    x, labels = separable(moods=("neutral", "happy"))
    fit = fit_calibration(x, labels, emotion_labels=EMOTIONS)
    assert fit.head.labels == ("happy", "neutral")
    assert (fit.head.predict_proba(x[:60]).argmax(axis=1) == 1).all()   # the neutral frames


@pytest.mark.parametrize("features, labels, problem", [
    (np.zeros((10, D)), ["happy"] * 10, "at least two moods"),
    (np.zeros((10, D)), ["happy"] * 4 + ["sad"] * 6, "too few frames"),
    (np.zeros((10, D)), ["happy"] * 5 + ["grumpy"] * 5, "unknown mood"),
    (np.zeros((10, D)), ["happy"] * 5, "one label per row"),
    (np.full((10, D), np.nan), ["happy"] * 5 + ["sad"] * 5, "NaN"),
])
def test_unusable_frames_are_refused_with_the_reason(features, labels, problem):
    with pytest.raises(ValueError, match=problem):
        fit_calibration(features, labels, emotion_labels=EMOTIONS)


def test_rule_replaces_the_net_with_the_head():
    x, labels = separable()
    fit = fit_calibration(x, labels, emotion_labels=EMOTIONS)
    generic = np.tile(np.array([0.30, 0.0, 0.0, 0.05, 0.55, 0.05, 0.05]), (60, 1))    # net: "sad" on happy frames
    out = calibrated_probabilities(fit.head, generic, x[:60], EMOTIONS)             # the happy frames
    assert out.shape == (60, 7) and np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out[:, [0, 1, 2]], 0.0)          # untaught moods: 0
    assert np.allclose(out[:, [3, 4, 5, 6]], fit.head.predict_proba(x[:60]))
    assert (out.argmax(axis=1) == 3).all()
    one = calibrated_probabilities(fit.head, generic[0], x[0], EMOTIONS)
    assert one.shape == (7,) and np.allclose(one, out[0])


def test_a_blend_weighs_the_head_against_the_net():
    x, labels = separable()
    fit = fit_calibration(x, labels, emotion_labels=EMOTIONS)
    generic = np.tile(np.array([0.30, 0.0, 0.0, 0.05, 0.55, 0.05, 0.05]), (60, 1))
    out = calibrated_probabilities(fit.head, generic, x[:60], EMOTIONS, head_weight=0.5)
    assert np.allclose(out.sum(axis=1), 1.0) and np.allclose(out[:, 0], 0.15)
    assert np.allclose(calibrated_probabilities(fit.head, generic, x[:60], EMOTIONS, head_weight=0.0), generic)
    with pytest.raises(ValueError, match="head_weight"):
        calibrated_probabilities(fit.head, generic, x[:60], EMOTIONS, head_weight=1.5)


# -- the file -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    x, labels = separable()
    return x, fit_calibration(x, labels, emotion_labels=EMOTIONS, generic_probabilities=generic_for(labels))


def test_json_round_trip_gives_the_same_head(fitted):
    x, fit = fitted
    body = json.loads(json.dumps(calibration_to_json("Ana at her desk", fit, SHA)))
    name, again = calibration_from_json(body, model_sha256=SHA, feature_size=D)
    assert name == "Ana at her desk"
    assert again.head.labels == fit.head.labels and again.head.method == fit.head.method == DEFAULT_METHOD
    assert DEFAULT_METHOD == "nearest_mean"
    assert np.array_equal(again.head.predict_proba(x), fit.head.predict_proba(x))
    assert (again.cv_accuracy, again.generic_accuracy, again.counts) == (fit.cv_accuracy, fit.generic_accuracy,
                                                                         fit.counts)


def _body(fitted):
    return json.loads(json.dumps(calibration_to_json("me", fitted[1], SHA)))


def _broken(fitted, change):
    body = _body(fitted)
    change(body)
    return body


@pytest.mark.parametrize("change, problem", [
    (lambda b: b.update(format="moodcam-models/1"), "not a moodcam calibration"),
    (lambda b: b.update(version=2), "version 2"),
    (lambda b: b["model"].update(sha256="cd" * 32), "another emotion model"),
    (lambda b: b.pop("model"), "another emotion model"),
    (lambda b: b.update(weights=b["weights"][:-1]), "'weights' has shape"),
    (lambda b: b.update(mean=b["mean"] + [0.0]), "'mean' has shape"),
    (lambda b: b.update(bias="zero"), "'bias'"),
    (lambda b: b["weights"][3].__setitem__(1, float("nan")), "NaN"),
    (lambda b: b.update(labels=["happy", "sad", "surprise", "bored"]), "unknown mood"),
    (lambda b: b.update(labels=["sad", "happy", "surprise", "neutral"]), "not in the emotion net's order"),
    (lambda b: b.update(method="svm"), "method 'svm'"),
    (lambda b: b.update(cv_accuracy=1.5), "cv_accuracy"),
    (lambda b: b.update(counts={"happy": 3}), "counts"),
    (lambda b: b.update(name=""), "name"),
    (lambda b: b["scale"].__setitem__(0, 0.0), "'scale' holds values <= 0"),
])
def test_damaged_files_are_refused_with_what_is_wrong(fitted, change, problem):
    with pytest.raises(CalibrationFormatError, match=problem) as error:
        calibration_from_json(_broken(fitted, change), model_sha256=SHA, feature_size=D)
    assert "; " in str(error.value)        # ... and what to do


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_a_body_that_is_no_object_is_refused(data):
    with pytest.raises(CalibrationFormatError, match="JSON object"):
        calibration_from_json(data, model_sha256=SHA, feature_size=D)


def test_a_file_for_another_feature_size_is_refused(fitted):
    with pytest.raises(CalibrationFormatError, match="shape"):
        calibration_from_json(_body(fitted), model_sha256=SHA, feature_size=64)
