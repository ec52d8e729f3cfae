"""bench.video's pure parts: which sample is "after 1 minute", and the summary's speed and growth."""
from __future__ import annotations

from bench.video import memory_at, summarise


def sample(t_s, media_s, heap):
    return {"t_s": t_s, "media_s": media_s, "numTensors": 345, "pythonHeapUsed": heap, "wasmHeap": 40,
            "tfjsWasmHeap": 20, "agentBytes": 100}


def test_memory_after_one_minute_is_the_first_sample_past_it():
    samples = [sample(5, 30, 1), sample(15, 75, 2), sample(30, 150, 3)]
    assert memory_at(samples, 60) is samples[1]
    assert memory_at(samples, 200) is None


def test_summary_speed_is_media_over_wall_and_growth_is_end_minus_first_minute():
    run = {"wall_s": 40.0, "state": "done", "samples": [sample(5, 30, 10), sample(15, 75, 12), sample(40, 120, 15)]}
    summary = summarise(2.0, run)
    assert summary["x_real_time"] == 3.0
    assert summary["growth_after_1min"]["pythonHeapUsed"] == 3
    assert summary["growth_after_1min"]["numTensors"] == 0
