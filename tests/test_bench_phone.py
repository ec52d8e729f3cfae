"""bench/phone.py and bench/cpu.py's arithmetic: the phone profile's visits, CPU-seconds medians and ratios to
human, and the interpolation of the cgroup's usage samples. Figures only: nothing in bench/ asserts a timing."""
from __future__ import annotations

import pytest

from bench.cpu import interpolate, quota_us, unavailable
from bench.phone import CPU_THROTTLE, cold_profiles, cpu_summary, cpu_table, visit_kind
from bench.report import visit_label


def test_without_the_phone_profile_the_visits_are_as_before():
    assert cold_profiles(3, True, None) == [
        (None, [("first", None), ("return", None), ("return_2", None), ("return_3", None),
                ("return_throttled", CPU_THROTTLE)]),
        (None, [("first_throttled", CPU_THROTTLE)])]
    assert cold_profiles(1, False, None) == [(None, [("first", None), ("return", None)])]


def test_the_phone_profile_alternates_full_speed_and_quota_rounds():
    profiles = cold_profiles(2, False, 0.5)
    assert profiles == [(None, [("first", None), ("return", None)]),
                        (0.5, [("phone_first", None), ("phone_return", None)]),
                        (None, [("first_2", None), ("return_2", None)]),
                        (0.5, [("phone_first_2", None), ("phone_return_2", None)])]
    names = [n for _, visits in cold_profiles(2, True, 0.5) for n, _ in visits]
    assert len(names) == len(set(names)) and "return_throttled" in names and "first_throttled" in names


def test_visit_kinds():
    assert visit_kind("first") == ("full", "first") and visit_kind("return_3") == ("full", "return")
    assert visit_kind("phone_first_2") == ("phone", "first") and visit_kind("phone_return") == ("phone", "return")
    assert visit_kind("return_throttled") is None and visit_kind("first_throttled") is None


def test_labels_say_the_main_thread_throttle_is_not_a_phone():
    assert "not a phone" in visit_label("return_throttled") and "main thread only" in visit_label("first_throttled")
    assert "CPU quota" in visit_label("phone_return_2") and visit_label("first_2").startswith("first visit #2")


def cpu(cpu_s: float, wall_s: float) -> dict:
    return {"cpu": {"cpu_s": cpu_s, "wall_s": wall_s}}


def test_medians_per_engine_speed_and_kind_and_ratios_to_human():
    cold = {"worker": {"first": cpu(5.0, 4.0), "first_2": cpu(6.0, 4.4), "first_3": cpu(7.0, 3.0),
                       "return": cpu(3.0, 2.0), "phone_first": cpu(5.5, 12.0), "return_throttled": cpu(9.0, 9.0)},
            "human": {"first": cpu(1.5, 1.0), "return": cpu(1.0, 0.5), "phone_first": cpu(1.1, 2.4)},
            "page": {"error": "no browser"}}
    s = cpu_summary(cold, 0.5)
    w = s["engines"]["worker"]
    assert w["full"]["first"]["cpu_s"] == {"median": 6.0, "min": 5.0, "max": 7.0, "n": 3}
    assert w["full"]["return"]["wall_s"]["median"] == 2.0
    assert w["phone"]["first"]["wall_s"]["median"] == 12.0 and "return" not in w["phone"]
    assert "page" not in s["engines"]
    r = s["ratios_to_human"]["worker"]
    assert r["full_first_cpu_s"] == pytest.approx(4.0) and r["full_return_wall_s"] == pytest.approx(4.0)
    assert r["phone_first_cpu_s"] == pytest.approx(5.0)
    table = cpu_table(s)
    assert "| worker | 6.00 (5.00–7.00) | 4.00 (3.00–4.40) | 3.00 | 2.00 |" in table
    assert "0.5 of a core" in table


def test_no_cpu_records_no_table():
    assert cpu_table(cpu_summary({"worker": {"first": {"phases": {}}}})) == ""


def test_interpolation_between_usage_samples():
    times, values = [10.0, 10.1, 10.3], [1.0, 1.2, 1.2]
    assert interpolate(times, values, 10.05) == pytest.approx(1.1)
    assert interpolate(times, values, 10.1) == pytest.approx(1.2)
    assert interpolate(times, values, 10.0) == pytest.approx(1.0)
    assert interpolate(times, values, 9.9) is None and interpolate(times, values, 10.4) is None
    assert interpolate([], [], 1.0) is None


def test_quota_and_availability(tmp_path):
    assert quota_us(0.5) == 50_000 and quota_us(None) == -1
    with pytest.raises(ValueError):
        quota_us(0.001)
    assert "no cgroup v1 cpu" in unavailable(tmp_path)
    for h in ("cpu", "cpuacct"):
        (tmp_path / h).mkdir()
        (tmp_path / h / "cgroup.procs").write_text("")
    assert unavailable(tmp_path) == ""
