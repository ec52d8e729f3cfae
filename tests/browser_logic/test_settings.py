"""moodcam.browser.settings: parse, clamp and round-trip the stored JSON and URL parameters.

Whatever localStorage or a link holds, the app gets usable settings and never an exception.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, fields, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moodcam.browser import settings as S
from moodcam.browser.settings import Settings

DEFAULT = Settings()


def test_defaults_are_already_clamped():
    assert DEFAULT.clamped() == DEFAULT
    assert not DEFAULT.custom_model


def test_json_round_trip():
    custom = replace(DEFAULT, detect_every=7, emotion_every=4, threshold=0.65, backend="wasm", show_boxes=False,
                     show_keypoints=False, show_hud=False, facing="environment", clock="raf", model="shapes_demo")
    text = S.to_json(custom)
    assert json.loads(text) == asdict(custom)
    assert S.from_json(text) == custom
    assert S.to_json(S.from_json(text)) == text


@pytest.mark.parametrize("text", [None, "", "null", "[]", "42", '"text"', "{", "{'a': 1}", "\x00", "true"])
def test_unreadable_storage_gives_defaults(text):
    assert S.from_json(text) == DEFAULT


@pytest.mark.parametrize("stored,field,expected", [
    ({"detect_every": 0}, "detect_every", 1),
    ({"detect_every": 999}, "detect_every", 30),
    ({"detect_every": "4"}, "detect_every", 4),
    ({"detect_every": 2.7}, "detect_every", 2),
    ({"detect_every": "many"}, "detect_every", 3),
    ({"detect_every": None}, "detect_every", 3),
    ({"detect_every": [5]}, "detect_every", 3),
    ({"detect_every": True}, "detect_every", 3),
    ({"emotion_every": -3}, "emotion_every", 1),
    ({"threshold": 5}, "threshold", 0.99),
    ({"threshold": -1}, "threshold", 0.05),
    ({"threshold": 0.123456}, "threshold", 0.123),
    ({"threshold": "0.7"}, "threshold", 0.7),
    ({"threshold": "NaN"}, "threshold", 0.5),
    ({"backend": "cuda"}, "backend", "auto"),
    ({"backend": 3}, "backend", "auto"),
    ({"facing": "left"}, "facing", "user"),
    ({"clock": "sundial"}, "clock", "video"),
    ({"show_boxes": "false"}, "show_boxes", False),
    ({"show_boxes": "on"}, "show_boxes", True),
    ({"show_hud": 0}, "show_hud", False),
    ({"model": "faces"}, "model", ""),
    ({"model": "  shapes_demo "}, "model", "shapes_demo"),
    ({"model": {"x": 1}}, "model", ""),
    ({"model": "x" * 500}, "model", "x" * S.MODEL_NAME_MAX),
])
def test_bad_or_odd_stored_values_are_clamped_or_ignored(stored, field, expected):
    got = S.from_json(json.dumps(stored))
    assert getattr(got, field) == expected
    # Every other field keeps its default.
    for f in fields(Settings):
        if f.name != field:
            assert getattr(got, f.name) == getattr(DEFAULT, f.name), f.name


def test_non_finite_numbers_do_not_crash():
    # json.loads reads 1e400 as infinity and NaN as nan: int(inf) would raise OverflowError.
    got = S.from_json('{"detect_every": 1e400, "threshold": NaN, "emotion_every": -Infinity}')
    assert got == DEFAULT


def test_unknown_keys_are_ignored():
    assert S.from_json('{"nonsense": 1, "detect_every": 5}') == replace(DEFAULT, detect_every=5)


def test_url_params_apply_on_top_and_map_names():
    stored = replace(DEFAULT, detect_every=5, backend="webgl")
    got = S.with_url_params(stored, {"backend": "wasm", "clock": "raf", "cadence": "2", "emotion": "3",
                                     "threshold": "0.8", "facing": "environment", "model": "shapes_demo",
                                     "unrelated": "x"})
    assert (got.backend, got.clock, got.detect_every, got.emotion_every, got.threshold, got.facing, got.model) == \
        ("wasm", "raf", 2, 3, 0.8, "environment", "shapes_demo")
    assert got.custom_model
    assert S.with_url_params(stored, {}) == stored


@pytest.mark.parametrize("params", [{"cadence": "x"}, {"cadence": ""}, {"threshold": "inf"}, {"backend": ""},
                                    {"clock": "1"}, {"emotion": "1e999"}, {"model": "faces"}, {"model": ""}])
def test_bad_url_params_fall_back(params):
    assert S.with_url_params(DEFAULT, params) == DEFAULT


def test_url_model_is_kept_verbatim_for_the_app_to_name():
    # An unknown name is not silently dropped: the app checks it against the manifest and says so.
    assert S.with_url_params(DEFAULT, {"model": "nope"}).model == "nope"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from([f.name for f in fields(Settings)] + ["junk"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                                 st.text(max_size=20), st.lists(st.integers(), max_size=2))))
def test_any_stored_json_gives_valid_settings(data):
    got = S.from_json(json.dumps(data))
    assert got == got.clamped()
    assert 1 <= got.detect_every <= 30 and 1 <= got.emotion_every <= 30
    assert 0.05 <= got.threshold <= 0.99 and math.isfinite(got.threshold)
    assert got.backend in S.BACKENDS and got.clock in S.CLOCKS and got.facing in S.FACINGS
    assert S.from_json(S.to_json(got)) == got


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["backend", "clock", "cadence", "emotion", "threshold", "facing", "model",
                                        "x"]), st.text(max_size=12)))
def test_any_url_params_give_valid_settings(params):
    got = S.with_url_params(DEFAULT, params)
    assert got == got.clamped()
    assert 0.05 <= got.threshold <= 0.99


# -- SettingsStore: URL values apply for the visit but are never stored ---------------------------
from moodcam.browser.settings import RANGES, SettingsStore, coerce  # noqa: E402


def test_url_values_apply_but_are_not_stored():
    store = SettingsStore('{"detect_every": 5, "threshold": 0.6}', {"cadence": "2", "backend": "wasm"})
    assert store.current.detect_every == 2 and store.current.backend == "wasm"
    store.update(show_hud=False)            # touching any control must not save the URL's values
    saved = json.loads(store.to_json())
    assert saved["detect_every"] == 5 and saved["backend"] == "auto" and saved["show_hud"] is False
    assert store.current.detect_every == 2 and store.current.backend == "wasm"


def test_a_control_overrides_the_url_value_of_the_same_setting():
    store = SettingsStore(None, {"cadence": "2"})
    store.update(detect_every=7)
    assert store.current.detect_every == 7 and json.loads(store.to_json())["detect_every"] == 7


def test_slider_ranges_are_the_clamps():
    # The page's sliders get their min/max from RANGES (browser.controls), so a slider can offer
    # exactly what is kept: the clamps' ends survive, one step beyond does not.
    for name, (low, high, step) in RANGES.items():
        assert getattr(Settings(**{name: low}).clamped(), name) == low
        assert getattr(Settings(**{name: high}).clamped(), name) == high
        assert getattr(Settings(**{name: high + step}).clamped(), name) == high
        assert getattr(Settings(**{name: low - step}).clamped(), name) == low


def test_index_html_sliders_match_the_ranges():
    from pathlib import Path
    import re

    html = (Path(__file__).resolve().parents[2] / "index.html").read_text()
    for element_id, name in (("cadence", "detect_every"), ("threshold", "threshold")):
        tag = re.search(rf'<input[^>]*id="{element_id}"[^>]*>', html).group(0)
        low, high, step = RANGES[name]
        assert float(re.search(r'min="([^"]+)"', tag).group(1)) == low
        assert float(re.search(r'max="([^"]+)"', tag).group(1)) == high
        assert float(re.search(r'step="([^"]+)"', tag).group(1)) == step


def test_coerce_names_unknown_settings():
    assert coerce("threshold", "0.4") == 0.4 and coerce("show_parts", True) is True
    with pytest.raises(ValueError):
        coerce("nope", 1)
