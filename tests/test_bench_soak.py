"""bench/soak.py's arithmetic: the baseline at the end of the first minute, growths after it, tensors
flat or not, fps from the frame counts, and the verdict against issue 30's 5 MB. Figures only."""
from __future__ import annotations

from bench.soak import app_query, slope_per_min, summarise, table

MB = 1_000_000


def sample(t_s: float, *, tensors: int = 115, used: int = 20 * MB, agent: int | None = 100 * MB,
           frames: int = 0, heap: int = 30 * MB) -> dict:
    return {"t_s": t_s, "numTensors": tensors, "tensorsBetweenFrames": 0, "pythonHeapUsed": used,
            "pythonHeap": heap, "wasmHeap": 40 * MB, "tfjsWasmHeap": 17 * MB, "agentBytes": agent,
            "frames": frames}


def test_growth_is_measured_from_the_first_sample_at_or_after_the_first_minute():
    samples = [sample(0, used=10 * MB, agent=80 * MB, frames=0),
               sample(60.2, used=20 * MB, agent=100 * MB, frames=600),
               sample(120, used=21 * MB, agent=106 * MB, frames=1200),
               sample(180, used=20 * MB + 500, agent=103 * MB, frames=1800)]
    s = summarise(samples)
    assert s["baseline_t_s"] == 60.2
    assert s["python_heap_used"]["growth"] == 500 and s["python_heap_used"]["max_growth"] == 1 * MB
    assert s["agent_bytes"]["growth"] == 3 * MB and s["agent_bytes"]["max_growth"] == 6 * MB
    assert s["verdict"]["agent_growth_under_limit"] is True
    assert s["frames"] == {"first": 0, "last": 1800, "during": 1800}
    assert s["fps"]["overall"] == 10.0 and s["fps"]["per_interval_min"] == 9.97
    # the trend from the baseline on: (60.2, 100), (120, 106), (180, 103) MB -> 1.5 MB a minute
    assert abs(s["agent_bytes"]["trend_per_min"] - 1.5 * MB) < 0.05 * MB


def test_the_trend_is_a_least_squares_slope_per_minute():
    assert slope_per_min([(0, 5), (60, 7), (120, 9)]) == 2.0
    assert slope_per_min([(0, 5), (60, 5)]) == 0.0
    assert slope_per_min([(60, 5)]) is None and slope_per_min([(60, 5), (60, 6)]) is None


def test_tensors_flat_only_counts_after_the_baseline():
    samples = [sample(0, tensors=90), sample(60, tensors=115), sample(120, tensors=115)]
    s = summarise(samples)
    assert s["tensors"] == {"first": 90, "last": 115, "max": 115, "min": 90}
    assert s["verdict"]["tensors_flat"] is True
    assert summarise(samples + [sample(180, tensors=116)])["verdict"]["tensors_flat"] is False


def test_agent_growth_over_the_limit_and_unread_agent_memory():
    over = summarise([sample(60, agent=100 * MB), sample(120, agent=105 * MB)])
    assert over["verdict"]["agent_growth_under_limit"] is False
    unread = summarise([sample(60, agent=None), sample(120, agent=None)])
    assert unread["agent_bytes"]["growth"] is None and unread["verdict"]["agent_growth_under_limit"] is None


def test_a_soak_shorter_than_a_minute_has_no_baseline():
    s = summarise([sample(0), sample(30)])
    assert s["baseline_t_s"] is None and s["python_heap_used"]["growth"] is None
    assert s["verdict"]["tensors_flat"] is False
    assert summarise([]) == {"samples": 0}


def test_the_query_and_the_table():
    assert app_query(bench_buffer=False) == "?backend=wasm&clock=raf&cadence=1&emotion=1&adapt=0&sw=0"
    assert app_query(bench_buffer=True).startswith("?bench=1&")
    lines = table([sample(60, frames=600)]).splitlines()
    assert len(lines) == 3 and lines[1].count("---") == 11 and "| 1.0 | 115 |" in lines[2]
