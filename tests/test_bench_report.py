"""bench/report.py's cold-start summary: the numpy-imported figures and the Pyodide floor.

Figures only (nothing in bench/ asserts a timing); this checks the arithmetic docs/bench.md's
issue-13 statement rests on: the floor is numpy imported plus the first mood's dwell.
"""
from __future__ import annotations

import pytest

from bench.report import FIRST_DWELL_MS, cold_summary, cold_table
from moodcam.mood.state import MoodConfig


def visit(to_numpy: float | None = None, to_first_mood: float | None = None) -> dict:
    phases = {k: v for k, v in (("to_numpy", to_numpy), ("to_first_mood", to_first_mood)) if v is not None}
    return {"phases": phases, "main_thread_long_tasks": {"count": 0, "max_ms": 0.0}}


def test_the_dwell_is_the_apps_own():
    assert FIRST_DWELL_MS == MoodConfig().first_dwell_ms


def test_the_floor_is_numpy_imported_plus_the_first_dwell():
    cold = {"pyodide-floor": {"first": visit(2400.0), "return": visit(1600.0), "return_2": visit(1100.0),
                              "return_throttled": visit(900.0), "first_throttled": visit(3100.0)}}
    floor = cold_summary(cold)["pyodide-floor"]
    dwell = FIRST_DWELL_MS / 1000
    assert floor["first_visit_numpy_s"] == pytest.approx(2.4)
    # The median of the plain return visits: the throttled one is not among them.
    assert floor["return_visit_numpy_median_s"] == pytest.approx(1.35)
    assert floor["first_visit_mood_floor_s"] == pytest.approx(2.4 + dwell)
    assert floor["return_visit_mood_floor_s"] == pytest.approx(1.35 + dwell)
    assert floor["throttled_first_visit_mood_floor_s"] == pytest.approx(3.1 + dwell)
    assert floor["first_visit_s"] is None          # the floor has no mood of its own
    assert f"{1.35 + dwell:.2f} s (return visit)" in cold_table(cold)


def test_our_engine_gets_numpy_figures_but_no_floor():
    cold = {"worker": {"first": visit(2800.0, 4000.0), "return": visit(1300.0, 2400.0)}}
    ours = cold_summary(cold)["worker"]
    assert ours["first_visit_s"] == pytest.approx(4.0) and ours["return_visit_numpy_median_s"] == pytest.approx(1.3)
    assert not any(k.endswith("mood_floor_s") for k in ours)


def test_an_engine_without_numpy_marks_has_no_numpy_figures():
    ours = cold_summary({"human": {"first": visit(None, 1000.0)}})["human"]
    assert not any("numpy" in k for k in ours)


def test_auto_against_near_compares_the_mean_frame_so_the_rare_far_runs_count():
    from bench.report import ratios, summarise

    def window(far_every: int) -> list[dict]:
        # 90 frames at 30 ms, 10 ms more on the detector's frames (every 3rd), and a far run (40 ms
        # more) on every far_every-th detector run.
        out, t = [], 0.0
        for i in range(90):
            det = i % 3 == 0
            far = det and far_every and (i // 3) % far_every == far_every - 1
            total = 30.0 + (10.0 if det else 0.0) + (40.0 if far else 0.0)
            out.append({"t0": t, "t_end": t + total, "total_ms": total, "detector_ms": total - 30.0 if det else 0.0})
            t += total
        return out

    r = ratios({"ours-default": summarise(window(3)), "ours-near": summarise(window(0))})
    # mean frame: near 30 + 10/3; auto adds 40 on one frame in 9
    assert r["frame ms auto/near (mean)"] == pytest.approx((30 + 10 / 3 + 40 / 9) / (30 + 10 / 3))
    assert r["frame ms auto/near (median)"] == pytest.approx(1.0)       # the median misses the far runs
    assert r["fps near/auto"] == pytest.approx(r["frame ms auto/near (mean)"], rel=0.02)
    assert ratios({"ours-default": summarise(window(3))})["frame ms auto/near (mean)"] is None
