"""Medians, spreads, ratios and the markdown table. Figures only: nothing here asserts."""
from __future__ import annotations

import statistics


def spread(values: list[float]) -> dict | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    q = lambda p: vals[min(len(vals) - 1, int(round(p * (len(vals) - 1))))]  # noqa: E731
    return {"median": statistics.median(vals), "min": vals[0], "max": vals[-1], "p10": q(0.1), "p90": q(0.9),
            "n": len(vals)}


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
SOMETIMES = {"det_ms", "emo_ms", "mesh_ms", "det_pre_ms", "emo_pre_ms", "decode_ms", "detect_call_ms",
             "detector_ms", "emotion_ms", "app_detector_ms", "app_emotion_ms", "app_mesh_ms", "detect_step_ms",
             "det_grab_ms"}
# Per-frame flags (face-parts mode), summarised apart, not as stages.
FLAGS = {"mesh_on", "ran_detector", "app_detector_fraction"}


def summarise(records: list[dict]) -> dict:
    keys = sorted({k for r in records for k, v in r.items()
                   if isinstance(v, (int, float)) and k not in ("t0", "t_end") and k not in FLAGS})
    stages = {}
    for key in keys:
        vals = [r.get(key) for r in records]
        if key in SOMETIMES:
            vals = [v for v in vals if v]
        else:
            vals = [v if v is not None else 0.0 for v in vals]
        s = spread(vals)
        if s is not None:
            stages[key] = s
    # Our detection stage as MediaPipe's detectForVideo counts it: frame in -> faces out.
    # Ours: Analyser._detect as a whole (letterbox read + normalise + execute + output reads) + decode.
    # Floor: its frame read + letterbox/execute/read + JS decode.
    det_frames = [r for r in records if r.get("det_ms") or r.get("detect_step_ms")]
    if det_frames and "detect_step_ms" in det_frames[0]:
        stages["detection_total_ms"] = spread([r["detect_step_ms"] + r.get("decode_ms", 0) for r in det_frames])
    elif det_frames and "grab_ms" in det_frames[0]:
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
    """ours/floor, ours/human (fps, higher is better for ours) and detector ours/mediapipe (speed)."""
    out = {}
    for mode in ("equal", "default"):   # ours-parts has no peer here: see parts_table
        ours = pipes.get(f"ours-{mode}")
        out[f"fps ours/floor ({mode})"] = ratio(_fps(ours), _fps(pipes.get(f"floor-{mode}")))
        out[f"fps ours/human ({mode})"] = ratio(_fps(ours), _fps(pipes.get(f"human-{mode}")))
    if pipes.get("ours-equal-sync"):
        out["fps ours-sync/floor (equal)"] = ratio(_fps(pipes.get("ours-equal-sync")), _fps(pipes.get("floor-equal")))
    mp = pipes.get("mediapipe")
    ours_det = _m(pipes.get("ours-equal"), "detection_total_ms")
    out["detector speed ours/mediapipe"] = ratio(_m(mp, "detect_call_ms"), ours_det)
    floor_det = _m(pipes.get("floor-equal"), "detection_total_ms")
    out["detector speed floor/mediapipe"] = ratio(_m(mp, "detect_call_ms"), floor_det)
    return out


def _fmt(v, digits=1) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _cell(summary: dict | None, key: str, digits=1) -> str:
    if not summary:
        return "–"
    s = summary.get("stages", {}).get(key)
    if not s:
        return "–"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


# The app's own stage split (FrameTimes, recorded as app_*); the floor page records the same split
# (detector_ms / emotion_ms without the output reads, transfer_ms = the output reads). Each column
# takes the first key a pipeline has. detector/emotion: median over the frames they ran on.
COLUMNS = [("fps", None), ("frame ms", ("app_total_ms", "frame_ms", "total_ms")),
           ("grab ms", ("app_grab_ms", "grab_ms")),
           ("detector ms", ("app_detector_ms", "detector_ms", "det_ms")),
           ("JS↔Py transfer ms", ("app_transfer_ms", "transfer_ms")),
           ("emotion ms", ("app_emotion_ms", "emotion_ms", "emo_ms")),
           ("Python logic ms", ("app_logic_ms", "logic_ms")), ("draw ms", ("app_draw_ms", "draw_ms")),
           ("faces", ("faces",))]
_FINE = {"app_logic_ms", "logic_ms", "app_transfer_ms", "transfer_ms", "app_draw_ms", "draw_ms"}


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
                 "(`await data()`) + copies into numpy. Load average at start/end: "
                 f"{_load(result['machine'].get('loadavg_start'))} / {_load(result['machine'].get('loadavg_end'))}.")
    lines.append("")
    lines.append("| clip | pipeline | " + " | ".join(c for c, _ in COLUMNS) + " |")
    lines.append("|" + " --- |" * (len(COLUMNS) + 2))
    for clip, pipes in result["clips"].items():
        for name, summary in pipes.items():
            if summary.get("error"):
                lines.append(f"| {clip} | {name} | error: {summary['error'][:80]} |" + " |" * (len(COLUMNS) - 1))
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
            lines.append(f"| {clip} | {name} | " + " | ".join(cells) + " |")
    lines.append("")
    keys = list(dict.fromkeys(k for rs in result["ratios"].values() for k in rs))
    lines.append("| clip | " + " | ".join(keys) + " |")
    lines.append("|" + " --- |" * (1 + len(keys)))
    for clip, rs in result["ratios"].items():
        if not any(v is not None for v in rs.values()):
            continue   # a clip measured in face-parts mode only (webgl two_faces): no peers to compare
        lines.append(f"| {clip} | " + " | ".join(_fmt(rs.get(k), 2) for k in keys) + " |")
    ours = result.get("python_share")
    if ours:
        lines.append("")
        lines.append("Python per frame (ours, every frame detected + classified, one face): "
                     f"FrameLogic (the HUD's 'Python ms') {_fmt(ours.get('app_logic_ms', ours.get('logic_ms')), 2)} ms "
                     f"median; JS↔Python transfer {_fmt(ours.get('app_transfer_ms'), 2)} ms, of which awaiting "
                     f"`tensor.data()` {_fmt(ours.get('read_wait_ms'), 2)} ms and copies {_fmt(ours.get('transfer_ms'), 2)} ms; "
                     f"the rest of the frame outside every stage {_fmt(ours.get('app_other_ms'), 2)} ms.")
    parts = parts_table(result)
    if parts:
        lines.append("")
        lines.append(parts)
    cold = result.get("cold_start")
    if cold:
        lines.append("")
        phases = [p for p in COLD_PHASES if any(p in (c.get("phases") or {}) for c in cold.values())]
        lines.append("| cold start (s) | " + " | ".join(phases) + " |")
        lines.append("|" + " --- |" * (1 + len(phases)))
        for cache, c in cold.items():
            ph = c.get("phases") or {}
            lines.append(f"| {cache} cache | " + " | ".join(_fmt(ph.get(p) / 1000 if ph.get(p) is not None else None, 2)
                                                     for p in phases) + " |")
        first = cold.get("empty", {}).get("bytes")
        if first:
            lines.append("")
            kinds = ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sorted(first["by_type"].items(), key=lambda kv: -kv[1]))
            lines.append(f"First visit: {first['total_bytes'] / 1e6:.2f} MB in {first['requests']} requests ({kinds}).")
            warm = cold.get("warm", {}).get("bytes")
            if warm:
                lines.append(f"Warm visit: {warm['total_bytes'] / 1e6:.2f} MB in {warm['requests']} requests "
                             f"(statuses {warm['statuses']}).")
    mem = result.get("memory")
    if mem:
        lines.append("")
        lines.append("| memory after the window (MB) | JS heap used | TF.js wasm heap | Pyodide wasm heap | tf.memory() bytes | tensors |")
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for name, m in mem.items():
            mb = lambda k: _fmt(m.get(k) / 1e6 if m.get(k) is not None else None, 1)  # noqa: E731
            lines.append(f"| {name} | {mb('js_heap_used')} | {mb('tfjs_wasm_memory')} | {mb('pyodide_wasm_memory')} | "
                         f"{mb('tf_num_bytes')} | {m.get('tf_num_tensors', '–')} |")
    core = result.get("core_pyodide")
    if core and core.get("results"):
        lines.append("")
        for r in core["results"]:
            lines.append(f"Python core in Pyodide ({core.get('python')}, numpy {core.get('numpy')}), {r['faces']} face(s), "
                         f"detector + emotion every frame: median {r['median_ms']:.3f} ms, p90 {r['p90_ms']:.3f} ms "
                         f"(decode alone {r['decode_only_median_ms']:.3f} ms; naive loop {r['naive_loop_median_ms']:.3f} ms).")
    return "\n".join(lines)


COLD_PHASES = ["tfjs", "pyodide", "numpy", "wheel", "backend", "models_fetch", "models_build", "camera",
               "first_inference", "to_first_frame", "to_first_mood"]


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
             "| clip | what | hardware | input | fps | mesh ms | detector fraction (window / app) | frame ms | faces |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for clip, s in rows:
        if s.get("error"):
            lines.append(f"| {clip} | ours-parts | {hw} | – | error: {s['error'][:80]} | | | | |")
            continue
        p = s.get("parts") or {}
        frac = (f"{p['detector_fraction']:.2f} / {_fmt(p.get('app_detector_fraction'), 2)}" if p else
                "– (FaceMesh never ran)")
        lines.append(f"| {clip} | ours-parts | {hw} | 192x192 per face | {_fmt(_fps(s))} | {_cell(s, 'app_mesh_ms')} | "
                     f"{frac} | {_cell(s, 'app_total_ms')} | {_cell(s, 'mesh_faces', 0)} |")
    for r in SEED_001_PARTS:
        lines.append(f"| – | {r['what']} | {r['hardware']} | {r['input']} | ~{r['fps']:.0f} | – | – | – | – |")
    lines.append("")
    lines.append("Not like for like: seed 001 ran on a GTX 1660 GPU, ours on 2 shared CPU cores "
                 + ("(wasm)" if backend == "wasm" else "(SwiftShader, a software GPU)")
                 + " in a headless browser with other jobs running; and BiSeNetV2 is a per-pixel face "
                 "segmentation, while our face parts are regions drawn from FaceMesh's 468 landmarks, not a pixel "
                 "segmentation. fps here is the whole app frame (parts, mood and drawing included).")
    return "\n".join(lines)
