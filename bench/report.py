"""Medians, spreads, ratios and the markdown table. Figures only: nothing here asserts."""
from __future__ import annotations

import statistics
from collections.abc import Iterable

from moodcam.mood.state import MoodConfig

FIRST_DWELL_MS = MoodConfig().first_dwell_ms


def spread(values: Iterable[float | None]) -> dict | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    q = lambda p: vals[min(len(vals) - 1, int(round(p * (len(vals) - 1))))]  # noqa: E731
    return {"median": statistics.median(vals), "min": vals[0], "max": vals[-1], "p10": q(0.1), "p90": q(0.9),
            "mean": statistics.fmean(vals), "n": len(vals)}


def fps_of(records: list[dict]) -> dict | None:
    """Steady-state end-to-end fps over the window: frames / elapsed, and from the median interval."""
    ends = [r["t_end"] for r in records if "t_end" in r]
    if len(ends) < 3:
        return None
    intervals = [b - a for a, b in zip(ends, ends[1:])]
    elapsed = ends[-1] - ends[0]
    return {"fps": 1000.0 * (len(ends) - 1) / elapsed if elapsed > 0 else None,
            "interval_ms": spread(intervals), "frames": len(ends), "elapsed_ms": elapsed}


# Stage keys, for each pipeline; values > 0 only where a stage runs only on some frames.
SOMETIMES = {"det_ms", "emo_ms", "mesh_ms", "detect_call_ms", "detector_ms", "emotion_ms"}
# Per-frame flags (face-parts mode), summarised apart, not as stages.
FLAGS = {"mesh_on", "ran_detector", "app_detector_fraction"}


def summarise(records: list[dict]) -> dict:
    keys = sorted({k for r in records for k, v in r.items()
                   if isinstance(v, (int, float)) and k not in ("t0", "t_end") and k not in FLAGS})
    stages: dict[str, dict | None] = {}
    for key in keys:
        vals = [r.get(key) for r in records]
        if key in SOMETIMES:
            vals = [v for v in vals if v]
        else:
            vals = [v if v is not None else 0.0 for v in vals]
        s = spread(vals)
        if s is not None:
            stages[key] = s
    # Detection as MediaPipe's detectForVideo counts it: frame in -> faces out.
    # Ours (the app's FrameTimes, which do not split a frame's grab/transfer/logic between the two
    # nets): the frames on which the detector ran and the emotion net did not (default cadence),
    # grab + detector + transfer + logic. Floor: its frame read + letterbox/execute/read + JS decode.
    if records and "python_ms" in records[0]:
        det_only = [r for r in records if r.get("detector_ms") and not r.get("emotion_ms") and not r.get("mesh_ms")]
        if det_only:
            stages["detection_total_ms"] = spread([r["grab_ms"] + r["detector_ms"] + r["transfer_ms"] + r["logic_ms"]
                                                   for r in det_only])
        det_frames = [r for r in records if r.get("detector_ms")]
    else:
        det_frames = [r for r in records if r.get("det_ms")]
        if det_frames and "grab_ms" in det_frames[0]:
            stages["detection_total_ms"] = spread([r.get("grab_ms", 0) + r["det_ms"] +
                                                   r.get("decode_ms", r.get("logic_ms", 0)) for r in det_frames])
    out = {"fps": fps_of(records), "stages": stages, "detector_frames": len(det_frames), "frames": len(records)}
    mesh = [r for r in records if r.get("mesh_on")]
    if mesh:
        out["parts"] = {"frames": len(mesh),
                        # over the measured window: frames on which the detector ran / frames
                        "detector_fraction": sum(r.get("ran_detector", 0) for r in mesh) / len(mesh),
                        # the app's own running figure (since FaceMesh started), as on the HUD
                        "app_detector_fraction": mesh[-1].get("app_detector_fraction")}
    return out


def _m(summary: dict | None, key: str) -> float | None:
    if not summary:
        return None
    s = summary.get("stages", {}).get(key)
    return s["median"] if s else None


def _fps(summary: dict | None) -> float | None:
    if not summary or not summary.get("fps"):
        return None
    return summary["fps"]["fps"]


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def ratios(pipes: dict) -> dict:
    """worker/page, ours/floor, ours/human (fps, higher is better for ours) and detector ours/mediapipe (speed)."""
    out = {}
    worker, page = pipes.get("ours-equal"), pipes.get("ours-equal-page")
    out["fps worker/page (equal)"] = ratio(_fps(worker), _fps(page))
    out["frame ms worker/page (equal)"] = ratio(_m(worker, "total_ms"), _m(page, "total_ms"))
    for mode in ("equal", "default"):   # ours-parts has no peer here: see parts_table
        ours = pipes.get(f"ours-{mode}")
        out[f"fps ours/floor ({mode})"] = ratio(_fps(ours), _fps(pipes.get(f"floor-{mode}")))
        out[f"fps ours/human ({mode})"] = ratio(_fps(ours), _fps(pipes.get(f"human-{mode}")))
    mp = pipes.get("mediapipe")
    ours_det = _m(pipes.get("ours-default"), "detection_total_ms")
    out["detector speed ours/mediapipe"] = ratio(_m(mp, "detect_call_ms"), ours_det)
    floor_det = _m(pipes.get("floor-equal"), "detection_total_ms")
    out["detector speed floor/mediapipe"] = ratio(_m(mp, "detect_call_ms"), floor_det)
    out.update(auto_near_ratios(pipes.get("ours-default"), pipes.get("ours-near")))
    return out


def _mean(summary: dict | None, key: str) -> float | None:
    s = (summary or {}).get("stages", {}).get(key)
    return s.get("mean") if s else None


def auto_near_ratios(auto: dict | None, near: dict | None) -> dict:
    """Issue 27: the default (auto range) against near only, both at the default cadence. The
    per-frame cost is the mean frame time over the window (the far runs come every 9th frame or so:
    a median would not see them), with the fps ratio and the detector's own time beside it."""
    return {"frame ms auto/near (mean)": ratio(_mean(auto, "total_ms"), _mean(near, "total_ms")),
            "frame ms auto/near (median)": ratio(_m(auto, "total_ms"), _m(near, "total_ms")),
            "fps near/auto": ratio(_fps(near), _fps(auto)),
            "detector ms auto/near (mean)": ratio(_mean(auto, "detector_ms"), _mean(near, "detector_ms"))}


def worker_page_table(wp: dict) -> str:
    """Issue 11's check: the engine in its worker against the same engine on the page (?worker=0)."""
    lines = [f"Worker against page (`?worker=0`), one face, detector + emotion every frame: {wp['rounds']} more "
             f"windows of {wp['frames_per_window']} frames per engine, alternating the order; median over the "
             "windows (min–max of the window medians).", "",
             "| engine | windows | fps | frame ms | grab ms | detector ms | emotion ms | transfer ms | logic ms | "
             "draw ms | other ms |", "|" + " --- |" * 11]
    for engine in ("worker", "page"):
        s = wp.get(engine) or {}
        n = len([w for w in wp["windows"].get(engine, []) if w.get("fps")])
        cell = lambda k, d=1: (f"{s[k]['median']:.{d}f} ({s[k]['min']:.{d}f}–{s[k]['max']:.{d}f})"  # noqa: E731
                               if s.get(k) else "–")
        lines.append(f"| {engine} | {n} | {cell('fps')} | {cell('frame_ms')} | {cell('grab_ms')} | "
                     f"{cell('detector_ms')} | {cell('emotion_ms')} | {cell('transfer_ms', 2)} | {cell('logic_ms', 2)} | "
                     f"{cell('draw_ms', 2)} | {cell('other_ms', 2)} |")
    lines.append("")
    lines.append(f"fps worker/page {_fmt(wp.get('fps worker/page'), 2)}; frame ms worker/page "
                 f"{_fmt(wp.get('frame ms worker/page'), 2)} (fps > 1 and frame ms < 1 favour the worker).")
    return "\n".join(lines)


def _fmt(v, digits=1) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _cell(summary: dict | None, key: str, digits=1) -> str:
    if not summary:
        return "–"
    s = summary.get("stages", {}).get(key)
    if not s:
        return "–"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


# The app's own stage split (FrameTimes, py/moodcam/browser/perf.py, read from its ?bench=1 ring
# buffer); the floor page records the same split (detector_ms / emotion_ms without the output
# reads, transfer_ms = the output reads). detector/emotion: median over the frames they ran on.
COLUMNS = [("fps", None), ("frame ms", ("total_ms",)), ("grab ms", ("grab_ms",)),
           ("detector ms", ("detector_ms", "det_ms")), ("JS↔Py transfer ms", ("transfer_ms",)),
           ("emotion ms", ("emotion_ms", "emo_ms")), ("Python logic ms", ("logic_ms",)),
           ("draw ms", ("draw_ms",)), ("other ms", ("other_ms",)), ("faces", ("faces",))]
_FINE = {"logic_ms", "transfer_ms", "draw_ms", "other_ms"}
PIPELINE_LABELS = {"ours-equal": "ours-equal (worker)", "ours-equal-page": "ours-equal (page, ?worker=0)",
                   "ours-default": "ours-default (worker)", "ours-near": "ours-near (worker, ?range=near)",
                   "ours-parts": "ours-parts (worker)"}


def table(result: dict) -> str:
    """One markdown table per backend: every clip x pipeline, then ratios, cold start, bytes, memory."""
    lines = []
    backend = result["backend_label"]
    lines.append(f"### {backend} — {result['date']} — {result['machine']['cpus']} cores, "
                 f"Chromium {result['machine'].get('chromium', '?')}")
    lines.append("")
    lines.append("Steady state: median (min–max) per frame over the measured window; fps = frames / elapsed. "
                 "Stages are the app's own (FrameTimes): grab = pixels into tensors, detector / emotion = "
                 "preprocessing + execute (median over the frames they ran on), transfer = output reads "
                 "(`await data()`) + copies into numpy, other = the rest of the frame (Python<->JS calls, "
                 "awaiting the event loop). Ours: read from the app's `?bench=1` ring buffer (nothing patched); "
                 "worker = the engine in its dedicated worker (as shipped), page = `?worker=0`. "
                 "Load average at start/end: "
                 f"{_load(result['machine'].get('loadavg_start'))} / {_load(result['machine'].get('loadavg_end'))}.")
    lines.append("")
    lines.append("| clip | pipeline | " + " | ".join(c for c, _ in COLUMNS) + " |")
    lines.append("|" + " --- |" * (len(COLUMNS) + 2))
    for clip, pipes in result["clips"].items():
        for name, summary in pipes.items():
            if summary.get("error"):
                lines.append(f"| {clip} | {PIPELINE_LABELS.get(name, name)} | error: {summary['error'][:80]} |"
                             + " |" * (len(COLUMNS) - 1))
                continue
            cells = []
            stages = summary.get("stages", {})
            for label, keys in COLUMNS:
                if keys is None:
                    cells.append(_fmt(_fps(summary)))
                    continue
                key = next((k for k in keys if k in stages), keys[0])
                if label == "detector ms" and name.startswith(("human", "mediapipe")):
                    cells.append(_cell(summary, "detect_call_ms") + (" (det+emo)" if name.startswith("human") else ""))
                elif key == "faces":
                    cells.append(_cell(summary, key, 0))
                else:
                    cells.append(_cell(summary, key, 2 if key in _FINE else 1))
            lines.append(f"| {clip} | {PIPELINE_LABELS.get(name, name)} | " + " | ".join(cells) + " |")
    lines.append("")
    ratio_keys = list(dict.fromkeys(k for rs in result["ratios"].values() for k in rs))
    lines.append("| clip | " + " | ".join(ratio_keys) + " |")
    lines.append("|" + " --- |" * (1 + len(ratio_keys)))
    for clip, rs in result["ratios"].items():
        if not any(v is not None for v in rs.values()):
            continue   # a clip measured in face-parts mode only (webgl two_faces): no peers to compare
        lines.append(f"| {clip} | " + " | ".join(_fmt(rs.get(k), 2) for k in ratio_keys) + " |")
    wp = result.get("worker_vs_page")
    if wp:
        lines.append("")
        lines.append(worker_page_table(wp))
    ours = result.get("python_share")
    if ours:
        lines.append("")
        lines.append("Python per frame (ours, worker, every frame detected + classified, one face): "
                     f"FrameLogic (the HUD's 'Python ms') {_fmt(ours.get('logic_ms'), 2)} ms median; "
                     f"JS↔Python transfer (output reads + copies) {_fmt(ours.get('transfer_ms'), 2)} ms; "
                     f"the rest of the frame outside every stage {_fmt(ours.get('other_ms'), 2)} ms; "
                     f"whole frame {_fmt(ours.get('total_ms'), 1)} ms.")
    parts = parts_table(result)
    if parts:
        lines.append("")
        lines.append(parts)
    cold = result.get("cold_start")
    if cold:
        lines.append("")
        lines.append(cold_table(cold))
    mem = result.get("memory")
    if mem:
        lines.append("")
        lines.append("| memory after the window (MB) | page JS heap used | TF.js wasm heap | Pyodide wasm heap | "
                     "tf.memory() bytes | tensors |")
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for name, m in mem.items():
            mb = lambda k: _fmt(m.get(k) / 1e6 if m.get(k) is not None else None, 1)  # noqa: E731
            lines.append(f"| {PIPELINE_LABELS.get(name, name)} | {mb('js_heap_used')} | {mb('tfjs_wasm_memory')} | "
                         f"{mb('pyodide_wasm_memory')} | {mb('tf_num_bytes')} | {m.get('tf_num_tensors', '–')} |")
    core = result.get("core_pyodide")
    if core and core.get("results"):
        lines.append("")
        for r in core["results"]:
            lines.append(f"Python core in Pyodide ({core.get('python')}, numpy {core.get('numpy')}), {r['faces']} face(s), "
                         f"detector + emotion every frame: median {r['median_ms']:.3f} ms, p90 {r['p90_ms']:.3f} ms "
                         f"(decode alone {r['decode_only_median_ms']:.3f} ms; naive loop {r['naive_loop_median_ms']:.3f} ms).")
    calibration = (core or {}).get("calibration")
    if calibration and calibration.get("results"):
        fits = ", ".join(f"{r['method']}{' (default)' if r['default'] else ''} median {r['median_ms']:.1f} ms "
                         f"(p90 {r['p90_ms']:.1f})" for r in calibration["results"])
        lines.append(f"Calibration fit in Pyodide, {calibration['moods']} moods x {calibration['frames_per_mood']} "
                     f"frames x {calibration['features']} features (5-fold CV + final fit): {fits}.")
    return "\n".join(lines)


COLD_PHASES = ["to_engine", "tfjs", "pyodide_numpy", "pyodide_interpreter", "numpy_load", "numpy_import",
               "wheel",
               "python_start", "models", "first_frame",
               "to_numpy", "to_first_frame", "to_first_mood"]
MAIN_THREAD_ONLY = "page main thread only 4x slower (CDP throttle; not a phone)"
VISITS = {"first": "first visit", "return": "return visit",
          "return_throttled": f"return visit, {MAIN_THREAD_ONLY}",
          "first_throttled": f"first visit, {MAIN_THREAD_ONLY} (a fresh profile)"}


def visit_label(visit: str) -> str:
    if visit.startswith("phone_"):
        return visit_label(visit[6:]) + ", whole browser under the CPU quota (phone)"
    base, _, n = visit.partition("_")
    if base == "return" and n.isdigit():
        return f"return visit #{n}"
    if base == "first" and n.isdigit():
        return f"first visit #{n} (a fresh profile)"
    return VISITS.get(visit, visit)


def cold_summary(cold: dict) -> dict:
    """Per backend engine: first-visit and median return-visit seconds to the first mood, long tasks."""
    out = {}
    for engine, visits in cold.items():
        if not isinstance(visits, dict) or visits.get("error"):
            continue
        def seconds(v, phase="to_first_mood"):
            t = ((v or {}).get("phases") or {}).get(phase)
            return t / 1000 if t is not None else None
        plain_returns = [v for k, v in visits.items() if k == "return" or (k.startswith("return_") and k[7:].isdigit())]
        returns = [r for r in (seconds(v) for v in plain_returns) if r is not None]
        lt = [(v.get("main_thread_long_tasks") or {}) for v in visits.values() if isinstance(v, dict)]
        out[engine] = {"first_visit_s": seconds(visits.get("first")),
                       "return_visit_median_s": statistics.median(returns) if returns else None,
                       "return_visits": len(returns),
                       "throttled_return_s": seconds(visits.get("return_throttled")),
                       "throttled_first_visit_s": seconds(visits.get("first_throttled")),
                       "longest_main_thread_task_ms": max((x.get("max_ms", 0) for x in lt), default=None),
                       "long_tasks_per_visit": [x.get("count") for x in lt]}
        # numpy imported (our engines and the Pyodide floor): where Python's own start ends.
        numpy_returns = [r for r in (seconds(v, "to_numpy") for v in plain_returns) if r is not None]
        if seconds(visits.get("first"), "to_numpy") is not None or numpy_returns:
            out[engine].update({"first_visit_numpy_s": seconds(visits.get("first"), "to_numpy"),
                                "return_visit_numpy_median_s": statistics.median(numpy_returns) if numpy_returns else None,
                                "throttled_first_visit_numpy_s": seconds(visits.get("first_throttled"), "to_numpy")})
        if engine == "pyodide-floor":
            # numpy's import plus the first mood's dwell of votes (MoodConfig.first_dwell_ms): with
            # ours' to_numpy, the earliest a first mood can come (issue 13's targets).
            dwell = FIRST_DWELL_MS / 1000
            out[engine]["first_dwell_s"] = dwell
            for visit, numpy_key in (("first_visit", "first_visit_numpy_s"),
                                     ("return_visit", "return_visit_numpy_median_s"),
                                     ("throttled_first_visit", "throttled_first_visit_numpy_s")):
                t = out[engine].get(numpy_key)
                out[engine][f"{visit}_mood_floor_s"] = t + dwell if t is not None else None
    return out


def cold_table(cold: dict) -> str:
    """Boot phases per engine and visit (seconds), main-thread long tasks, bytes."""
    rows = [(engine, visit, v) for engine, visits in cold.items() if isinstance(visits, dict)
            for visit, v in visits.items() if isinstance(v, dict)]
    phases = [p for p in COLD_PHASES if any(p in (v.get("phases") or {}) for _, _, v in rows)]
    lines = ["Cold start (s, from navigation start; phases from the engine's performance.marks and the app's "
             "PerfMeter marks; first frame / first mood from the page's data attributes). Long tasks: the page's "
             "main-thread tasks over 50 ms up to the first mood (PerformanceObserver 'longtask').", "",
             "| engine | visit | " + " | ".join(phases) + " | long tasks (count / longest ms) |",
             "|" + " --- |" * (3 + len(phases))]
    for engine, visit, v in rows:
        ph = v.get("phases") or {}
        lt = v.get("main_thread_long_tasks") or {}
        cells = [_fmt(ph[p] / 1000 if ph.get(p) is not None else None, 2) for p in phases]
        err = f" ({v['error'][:60]})" if v.get("error") else ""
        lines.append(f"| {engine} | {visit_label(visit)}{err} | " + " | ".join(cells)
                     + f" | {lt.get('count', '–')} / {_fmt(lt.get('max_ms'), 0)} |")
    for engine, visits in cold.items():
        if not isinstance(visits, dict):
            continue
        if visits.get("error"):
            lines.append(f"\n{engine}: error: {visits['error'][:200]}")
            continue
        first = (visits.get("first") or {}).get("bytes")
        if first and engine == "pyodide-floor":
            lines.append("")
            lines.append(f"{engine}: first visit to numpy imported: {first['total_bytes'] / 1e6:.2f} MB in "
                         f"{first['requests']} requests (the app's service worker registers after it, as in the app).")
        elif first:
            kinds = ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sorted(first["by_type"].items(), key=lambda kv: -kv[1]))
            v1 = visits.get("first") or {}
            pre = v1.get("bytes_with_precache")
            lines.append("")
            lines.append(f"{engine}: first visit to the first mood: {first['total_bytes'] / 1e6:.2f} MB in "
                         f"{first['requests']} requests ({kinds}); the service worker (which precaches what a start "
                         "needs before it takes control) was "
                         + ("already in control at the first mood" if v1.get("controlled_at_first_mood") else
                            f"in control {v1.get('service_worker_controls_after_s')} s after it")
                         + (f", {pre['total_bytes'] / 1e6:.2f} MB in {pre['requests']} requests by then" if pre else "")
                         + ".")
            ret = (visits.get("return") or {}).get("bytes")
            if ret:
                lines.append(f"{engine}: return visit: {ret['total_bytes'] / 1e6:.2f} MB in {ret['requests']} requests "
                             f"(statuses {ret['statuses']}); served by the service worker: "
                             f"{(visits.get('return') or {}).get('controlled_by_service_worker')}.")
    summary = cold_summary(cold)
    floor = summary.pop("pyodide-floor", None)
    if summary:
        lines.append("")
        lines.append("To the first mood: " + "; ".join(
            f"{engine}: first visit {_fmt(s['first_visit_s'], 2)} s, return visit {_fmt(s['return_visit_median_s'], 2)} s "
            f"(median of {s['return_visits']}), {MAIN_THREAD_ONLY}: {_fmt(s['throttled_return_s'], 2)} s (return) / "
            f"{_fmt(s.get('throttled_first_visit_s'), 2)} s (first visit); longest "
            f"main-thread task {_fmt(s['longest_main_thread_task_ms'], 0)} ms" for engine, s in summary.items()) + ".")
    if floor:
        lines.append("")
        lines.append(
            "The Pyodide floor (bench/pages/pyodide_floor.html: the engine's own start of Pyodide and numpy, "
            "nothing beside it): numpy imported "
            f"{_fmt(floor.get('first_visit_numpy_s'), 2)} s after navigation on a first visit, "
            f"{_fmt(floor.get('return_visit_numpy_median_s'), 2)} s on a return visit (from the kept snapshot), "
            f"{_fmt(floor.get('throttled_first_visit_numpy_s'), 2)} s on a first visit with the {MAIN_THREAD_ONLY}. "
            f"With the first mood's {floor['first_dwell_s']:.1f} s dwell of votes after it: "
            f"{_fmt(floor.get('first_visit_mood_floor_s'), 2)} s (first visit) / "
            f"{_fmt(floor.get('return_visit_mood_floor_s'), 2)} s (return visit). Our engine can import numpy "
            "as soon (it reads TF.js's scripts before the restore): read the floor with ours' to_numpy; the earlier "
            "of the two, plus the dwell, is as soon as any first mood can come.")
    if any("return_throttled" in v for v in cold.values() if isinstance(v, dict)):
        lines.append("")
        lines.append("The main-thread throttle is Chrome DevTools Protocol `Emulation.setCPUThrottlingRate` (4x): "
                     "Chromium applies it to the page's main thread only and refuses it for dedicated workers, so "
                     "with the worker engine Pyodide, TF.js and the frames run at full speed and only the page glue "
                     "is slowed; with `?worker=0` and human everything is. It is not a phone figure: the phone "
                     "figures (`--phone`) cut the CPU of the whole browser.")
    return "\n".join(lines)


def _load(value) -> str:
    return "?" if not value else "/".join(f"{v:.2f}" for v in value)


# Issue 7: seed 001's face-parts figures (BiSeNetV2 face parsing), quoted as published there.
SEED_001_PARTS = [
    {"what": "BiSeNetV2 (seed 001)", "input": "448x448", "fps": 12.0, "hardware": "GTX 1660 GPU"},
    {"what": "BiSeNetV2 (seed 001)", "input": "288x288", "fps": 20.0, "hardware": "GTX 1660 GPU"},
]


def parts_table(result: dict) -> str:
    """Face-parts mode (ours-parts) per clip, with seed 001's figures beside it."""
    rows = [(clip, pipes["ours-parts"]) for clip, pipes in result["clips"].items() if "ours-parts" in pipes]
    if not rows:
        return ""
    backend = result["backend"]
    hw = ("2 shared CPU cores, TF.js wasm" if backend == "wasm"
          else "2 shared CPU cores, TF.js webgl on SwiftShader (software)" if "software" in result["backend_label"]
          else f"TF.js webgl ({result['backend_label']})")
    lines = ["Face parts (`ours-parts`: the app with `?parts=1`; FaceMesh 192x192 per tracked face, BlazeFace only "
             "when the tracker asks, emotion at the default cadence):", "",
             "| clip | what | hardware | input | fps | mesh ms | detector fraction (window / app) | frame ms |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for clip, s in rows:
        if s.get("error"):
            lines.append(f"| {clip} | ours-parts | {hw} | – | error: {s['error'][:80]} | | | |")
            continue
        p = s.get("parts") or {}
        frac = (f"{p['detector_fraction']:.2f} / {_fmt(p.get('app_detector_fraction'), 2)}" if p else
                "– (FaceMesh never ran)")
        lines.append(f"| {clip} | ours-parts | {hw} | 192x192 per face | {_fmt(_fps(s))} | {_cell(s, 'mesh_ms')} | "
                     f"{frac} | {_cell(s, 'total_ms')} |")
    for r in SEED_001_PARTS:
        lines.append(f"| – | {r['what']} | {r['hardware']} | {r['input']} | ~{r['fps']:.0f} | – | – | – |")
    lines.append("")
    lines.append("Not like for like: seed 001 ran on a GTX 1660 GPU, ours on 2 shared CPU cores "
                 + ("(wasm)" if backend == "wasm" else "(SwiftShader, a software GPU)")
                 + " in a headless browser with other jobs running; and BiSeNetV2 is a per-pixel face "
                 "segmentation, while our face parts are regions drawn from FaceMesh's 468 landmarks, not a pixel "
                 "segmentation. fps here is the whole app frame (parts, mood and drawing included).")
    return "\n".join(lines)
