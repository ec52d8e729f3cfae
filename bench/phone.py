"""The phone profile's layout and its figures: CPU-seconds (the whole browser, every process and thread)
and wall seconds from navigation to the first answer, per cold engine and visit kind, at full speed
and with the whole browser under a CPU quota (bench/cpu.py), medians over --cold-repeats and ratios
to human measured in the same run. Arithmetic only: bench/cold.py takes the visits.

The first answer: ours (worker, page) the first committed mood (`data-mood-state="mood"`); human its
first face with an emotion; the Pyodide floor numpy imported.
"""
from __future__ import annotations

import statistics

CPU_THROTTLE = 4   # the main-thread-only CDP throttle (bench/cold.py): page main thread only, not a phone
ANSWERS = {"worker": "first mood", "page": "first mood", "human": "first face with an emotion",
           "pyodide-floor": "numpy imported"}
SPEEDS = ("full", "phone")


def _suffix(i: int) -> str:
    return "" if i == 1 else f"_{i}"


def cold_profiles(repeats: int, throttle: bool, phone_quota: float | None) -> list[tuple[float | None, list]]:
    """Fresh browser profiles for one engine, in order: (the whole browser's CPU quota, or None;
    [(visit name, main-thread throttle rate or None)]).

    Without the phone profile: a first visit and `repeats` return visits in one profile. With it
    (`phone_quota`): `repeats` rounds of a first visit + a return visit in a fresh profile at full
    speed, then the same under the quota ("phone_first", "phone_return"), so that first visits have
    a median too. The main-thread throttle's return visit follows the first profile's plain visits;
    its first visit has a fresh profile of its own, last."""
    throttled = [("return_throttled", CPU_THROTTLE)] if throttle else []
    profiles: list[tuple[float | None, list]] = []
    if phone_quota is None:
        profiles.append((None, [("first", None), ("return", None)]
                         + [(f"return_{i}", None) for i in range(2, repeats + 1)] + throttled))
    else:
        for i in range(1, repeats + 1):
            profiles.append((None, [(f"first{_suffix(i)}", None), (f"return{_suffix(i)}", None)]
                             + (throttled if i == 1 else [])))
            profiles.append((phone_quota, [(f"phone_first{_suffix(i)}", None), (f"phone_return{_suffix(i)}", None)]))
    if throttle:
        profiles.append((None, [("first_throttled", CPU_THROTTLE)]))
    return profiles


def visit_kind(name: str) -> tuple[str, str] | None:
    """("full" or "phone", "first" or "return") for a plain or phone visit; None for the throttled ones."""
    speed = "phone" if name.startswith("phone_") else "full"
    base = name[6:] if speed == "phone" else name
    kind, _, n = base.partition("_")
    if kind in ("first", "return") and (not n or n.isdigit()):
        return speed, kind
    return None


def _spread(values: list[float]) -> dict | None:
    return ({"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}
            if values else None)


def cpu_summary(cold: dict, phone_quota: float | None = None) -> dict:
    """{engine: {speed: {kind: {"cpu_s": spread, "wall_s": spread}}}} from the visits' `cpu` records, and
    `ratios_to_human`: each engine's medians over human's, same speed and kind."""
    engines: dict[str, dict] = {}
    for engine, visits in cold.items():
        if not isinstance(visits, dict) or visits.get("error"):
            continue
        cells: dict[tuple[str, str], dict[str, list[float]]] = {}
        for name, v in visits.items():
            vk = visit_kind(name)
            cpu = (v or {}).get("cpu") if isinstance(v, dict) else None
            if vk is None or not cpu:
                continue
            cell = cells.setdefault(vk, {"cpu_s": [], "wall_s": []})
            for key in ("cpu_s", "wall_s"):
                if cpu.get(key) is not None:
                    cell[key].append(cpu[key])
        if cells:
            engines[engine] = {speed: {kind: {k: _spread(vals) for k, vals in cells[(speed, kind)].items()}
                                       for kind in ("first", "return") if (speed, kind) in cells}
                               for speed in SPEEDS if any(s == speed for s, _ in cells)}
            engines[engine]["answer"] = ANSWERS.get(engine, "?")
    ratios: dict[str, dict] = {}
    human = engines.get("human", {})
    for engine, speeds in engines.items():
        if engine == "human":
            continue
        for speed in SPEEDS:
            for kind in ("first", "return"):
                for key in ("cpu_s", "wall_s"):
                    ours = (((speeds.get(speed) or {}).get(kind) or {}).get(key) or {}).get("median")
                    theirs = (((human.get(speed) or {}).get(kind) or {}).get(key) or {}).get("median")
                    if ours and theirs:
                        ratios.setdefault(engine, {})[f"{speed}_{kind}_{key}"] = round(ours / theirs, 2)
    return {"engines": engines, "ratios_to_human": ratios, "phone_quota_cores": phone_quota}


def _cell(spread: dict | None) -> str:
    if not spread:
        return "–"
    if spread["n"] == 1:
        return f"{spread['median']:.2f}"
    return f"{spread['median']:.2f} ({spread['min']:.2f}–{spread['max']:.2f})"


def cpu_table(summary: dict) -> str:
    """Markdown: CPU-seconds (all threads) and wall seconds to the first answer, per engine, visit kind and
    speed, medians (min–max) over the visits, and ratios to human."""
    engines = summary.get("engines") or {}
    if not engines:
        return ""
    quota = summary.get("phone_quota_cores")
    speeds = [s for s in SPEEDS if any(s in e for e in engines.values())]
    label = {"full": "full speed", "phone": f"whole browser at {quota} of a core" if quota else "phone"}
    lines = ["CPU-seconds of the whole browser (every process and thread: cgroup cpuacct) and wall seconds from "
             "navigation to the first answer (ours: first mood; human: first face with an emotion; floor: numpy "
             "imported); median (min–max) over the visits. "
             + (f"Phone: the whole browser under a CPU quota of {quota} of a core (cgroup cpu.cfs_quota_us)."
                if quota else ""), "",
             "| engine | " + " | ".join(f"{label[s]}: {k} CPU-s | {label[s]}: {k} wall s"
                                       for s in speeds for k in ("first", "return")) + " |",
             "|" + " --- |" * (1 + 4 * len(speeds))]
    for engine, e in engines.items():
        cells = []
        for s in speeds:
            for k in ("first", "return"):
                c = (e.get(s) or {}).get(k) or {}
                cells += [_cell(c.get("cpu_s")), _cell(c.get("wall_s"))]
        lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    ratios = summary.get("ratios_to_human") or {}
    if ratios:
        lines.append("")
        lines.append("Ratios to human (medians, same run, same speed and visit kind): " + "; ".join(
            f"{engine}: " + ", ".join(f"{k.replace('_cpu_s', ' CPU').replace('_wall_s', ' wall').replace('_', ' ')} "
                                      f"{v:.1f}x" for k, v in r.items()) for engine, r in ratios.items()) + ".")
    return "\n".join(lines)

