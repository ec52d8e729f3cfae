"""Calibration files made to hurt (issue 30): every one is refused with a CalibrationFormatError, and
a head that is accepted gives finite moods for every feature vector the net can give.

Runs in CPython and Pyodide (tests/pyodide); pure: no file is read.
"""
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moodcam.calibration import (MAX_FILE_DEPTH, CalibrationFormatError, calibration_from_json,
                                 calibration_from_text, calibration_to_json, fit_calibration, json_depth)
from moodcam.calibration_head import FEATURE_LIMIT, CalibrationHead, unbounded_output
from moodcam.mood.labels import EMOTIONS

from .test_calibration import SHA, separable

D = 128
X, LABELS = separable()
FIT = fit_calibration(X, LABELS, emotion_labels=EMOTIONS)
BODY = calibration_to_json("me", FIT, SHA)
K = len(FIT.head.labels)


def body(**changes):
    data = json.loads(json.dumps(BODY))
    data.update(changes)
    return data


def read(data):
    return calibration_from_json(data, model_sha256=SHA, feature_size=D)


def read_text(text):
    return calibration_from_text(text, model_sha256=SHA, feature_size=D)


# -- finite numbers that make NaN moods (the issue's file): refused at import -----------------------------
@pytest.mark.parametrize("changes", [
    {"weights": [[1e308] * K] * D},                      # scores overflow: inf - inf = NaN in the softmax
    {"scale": [1e-320] * D},                             # standardised features overflow
    {"bias": [1e308, -1e308] + [0.0] * (K - 2)},
    {"mean": [1e308] * D},
], ids=["huge-weights", "subnormal-scales", "huge-bias", "huge-mean"])
def test_a_head_whose_moods_could_overflow_is_refused_at_import(changes):
    with pytest.raises(CalibrationFormatError, match="overflow") as error:
        read(body(**changes))
    assert "; " in str(error.value) and len(str(error.value)) < 400


def test_the_issue_s_files_really_made_nan_before_this_check():
    """What the check stands in front of: the same numbers in a head, unchecked, give NaN moods."""
    base = FIT.head
    for mean, scale, weights in ((base.mean, base.scale, np.full((D, K), 1e308)),
                                 (base.mean, np.full(D, 1e-320), base.weights)):
        head = CalibrationHead(base.labels, base.method, mean, scale, weights, base.bias)
        with np.errstate(all="ignore"):
            assert np.isnan(head.predict_proba(X[:3])).any()
        assert unbounded_output(head) is not None


def test_a_fitted_head_passes_with_room_to_spare():
    for method in ("logistic", "nearest_mean"):
        head = fit_calibration(X, LABELS, emotion_labels=EMOTIONS, method=method).head
        assert unbounded_output(head) is None


# Magnitudes from 1e-320 to 1e308 (log-uniform), either sign: many heads pass, many do not.
magnitude = st.floats(-320, 308).map(lambda e: 10.0 ** e)
signed = st.tuples(magnitude, st.booleans()).map(lambda mb: -mb[0] if mb[1] else mb[0])
feature = st.one_of(st.sampled_from([FEATURE_LIMIT, -FEATURE_LIMIT, 0.0, 5e-324]),
                    st.floats(-FEATURE_LIMIT, FEATURE_LIMIT, width=32))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mean=st.lists(signed, min_size=4, max_size=4), scale=st.lists(magnitude, min_size=4, max_size=4),
       weights=st.lists(signed, min_size=8, max_size=8), bias=st.lists(signed, min_size=2, max_size=2),
       features=st.lists(st.lists(feature, min_size=4, max_size=4), min_size=1, max_size=4))
def test_an_accepted_head_gives_finite_moods_for_any_features_the_net_can_give(mean, scale, weights, bias, features):
    """The proof in unbounded_output, tried: accepted -> finite probabilities summing to 1."""
    head = CalibrationHead(("happy", "sad"), "logistic", np.array(mean), np.array(scale),
                           np.array(weights).reshape(4, 2), np.array(bias))
    if unbounded_output(head) is not None:
        return
    with np.errstate(all="ignore"):
        p = head.predict_proba(np.array(features))
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1.0)


# -- numbers JSON holds but float64 does not, and values numpy would take but a file must not hold ---------
@pytest.mark.parametrize("key, value, problem", [
    ("bias", [10 ** 400] + [0] * (K - 1), "'bias' holds NaN, infinite or too large"),        # OverflowError before
    ("bias", [-(10 ** 400)] + [0] * (K - 1), "'bias' holds NaN, infinite or too large"),
    ("bias", ["1"] * K, "'bias' is not a list of numbers"),                                   # numpy reads "1" as 1.0
    ("bias", [True] * K, "'bias' is not a list of numbers"),
    ("bias", [None] * K, "'bias' is not a list of numbers"),
    ("bias", {"0": 1}, "'bias' is not a list of numbers"),
    ("weights", [[0.0] * K] * (D - 1) + [[0.0] * (K - 1)], "'weights' is not a list of rows"),   # ragged
    ("weights", [0.0] * D, "'weights' is not a list of rows"),
    ("mean", [[0.0]] * D, "'mean' is not a list of numbers"),
    ("mean", [], "'mean' has shape"),
])
def test_numbers_out_of_reach_or_not_numbers_are_refused(key, value, problem):
    with pytest.raises(CalibrationFormatError, match=problem):
        read(body(**{key: value}))


def test_a_400_digit_integer_in_a_file_s_text_is_refused():
    text = json.dumps(body(bias=[10 ** 400] + [0] * (K - 1)))
    assert "1" + "0" * 400 in text                      # json.loads reads it as an int; float() would raise
    with pytest.raises(CalibrationFormatError, match="too large"):
        read_text(text)


# -- the text: nesting, not JSON ------------------------------------------------------------------------
def test_json_nested_200000_deep_is_refused_without_recursing():
    with pytest.raises(CalibrationFormatError, match="nests 200000 levels deep"):
        read_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(CalibrationFormatError, match="nests"):
        read_text('{"format": ' + "[" * 200_000)            # unclosed, too


@pytest.mark.parametrize("text, depth", [
    ("", 0), ("3", 0), ("[]", 1), ('{"a": [[1, 2], [3]]}', 3), ('["[[[[", "\\"[[["]', 1),
    ('"unterminated [[[', 0), ("]]]", 0),
])
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_a_real_file_nests_three_deep():
    assert json_depth(json.dumps(BODY)) == 3 < MAX_FILE_DEPTH
    name, fit = read_text(json.dumps(BODY))
    assert name == "me" and np.array_equal(fit.head.weights, FIT.head.weights)


@pytest.mark.parametrize("text", ["", "{", "not json", "1" * 5000, "[1, 2,]", '{"a": NaN'])
def test_text_that_is_not_json_is_refused(text):
    with pytest.raises(CalibrationFormatError, match="not a usable calibration file"):
        read_text(text)


def test_quoted_values_are_cut_short():
    """A 1 MB labels list is named in the refusal, not pasted into it (it reaches the live region)."""
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    for changes in ({"labels": ["x" * 1000] * 1000}, {"format": "f" * 1_000_000}, {"counts": {"a": 1} | {
            str(i): i for i in range(10_000)}}, {"name": ["n"] * 100_000}, {"cv_accuracy": 10 ** 5000},
            {"method": deep}):
        with pytest.raises(CalibrationFormatError) as error:
            read(body(**changes))
        assert len(str(error.value)) < 400, str(error.value)[:200]


# -- anything at all in any field: a refusal or a head, never another exception ----------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10 ** 400), 10 ** 400) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(BODY) + ["extra"]), value=json_values)
def test_any_value_in_any_field_is_a_refusal_or_a_head(key, value):
    try:
        _, fit = read(body(**{key: value}))
    except CalibrationFormatError:
        return
    with np.errstate(all="raise"):
        assert np.isfinite(fit.head.predict_proba(X[:2])).all()


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(0, len(json.dumps(BODY))), junk=st.text(max_size=6))
def test_any_damaged_text_is_a_refusal_or_a_head(cut, junk):
    text = json.dumps(BODY)
    try:
        read_text(text[:cut] + junk + text[cut + len(junk):])
    except CalibrationFormatError:
        pass


def test_non_finite_floats_from_the_json_parser_are_refused():
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(CalibrationFormatError, match="NaN"):
            read(body(bias=[bad] + [0.0] * (K - 1)))
