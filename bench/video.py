"""Video analysis speed and memory (issue 28): a 30 fps 640x480 clip analysed as a user would.

`python -m bench.video --minutes 1,10 --dist DIR` (from the repository root) makes one H.264 MP4 per
length from the scene fixtures (tests/fixtures/videos.py: a wall, a face enters, its expression
changes, it leaves, two faces; the story repeated to the length asked), serves a built site with
moodcam's own server, opens the app in headless Chromium (the camera denied, so frames come only
from the file) and chooses each clip in "Analyse a video…" at the app's default settings (10
frames per second of video, wasm unless --backend says otherwise). It reads only what the app
offers: `<html data-video-state>`/`data-video-progress` for the wall time from choosing the file
to the report, and `moodcam.stats()` every --every seconds for the memory (tensors, the Python
heap, both wasm memories, the page's agent bytes).

Speed is media seconds per wall second ("x real time"), with the CPU-seconds the whole browser
used (its cgroup, as bench.cpu reads it) when the machine allows one. Memory is reported at the
first sample after 1 minute of video analysed and at the end, so "flat" is read off one table.

The browser is the bench's wasm browser (WebGL off: on this machine's SwiftShader, copying a
decoded video frame out of the "GPU" costs 45-70 ms and would measure the software renderer, not
the app; see bench/README "Steady state").
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.browser import EXTRA_FLAGS, app_error, log, wait_for
from bench.site import REPO, BenchError, serving

MEMORY_FIELDS = ("numTensors", "pythonHeapUsed", "wasmHeap", "tfjsWasmHeap", "agentBytes")
Sample = dict[str, Any]


# What a camera adds to the story's stills, so that every frame is a real frame to decode: sensor
# noise that changes each frame and a slow hand-held drift. Encoded as a phone or a screen recorder
# would (libx264's defaults: B-frames, a keyframe every 250 frames at most).
CAMERA_LOOK = "noise=alls=6:allf=t,crop=600:450:20+20*sin(t):15+15*cos(t),scale=640:480,setsar=1"


def make_clip(minutes: float, folder: Path) -> Path:
    """A 30 fps 640x480 H.264 MP4 of `minutes`: the e2e story clip looped, with CAMERA_LOOK."""
    from tests.fixtures import cameras, videos

    story = videos.story(folder, "mp4")
    out = folder / f"story-{minutes:g}min-camera.mp4"
    if out.exists():
        return out
    loops = max(1, round(minutes * 60 / videos.DURATION_S + 0.5))
    staging = out.with_suffix(".part.mp4")
    subprocess.run([cameras.FFMPEG, "-loglevel", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(story),
                    "-t", str(minutes * 60), "-vf", CAMERA_LOOK, "-r", "30", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "23", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(staging)], check=True)
    staging.replace(out)
    return out


def _read(page) -> Sample:
    stats = page.evaluate("() => window.moodcam.stats()")
    data = page.evaluate("() => ({...document.documentElement.dataset})")
    sample: Sample = {k: stats.get(k) for k in MEMORY_FIELDS}
    sample["progress"] = float(data.get("videoProgress") or 0)
    sample["state"] = data.get("videoState")
    sample["load1"] = round(os.getloadavg()[0], 2)
    return sample


def analyse(page, clip: Path, duration_s: float, every_s: float, timeout_s: float) -> dict:
    """Choose `clip` and sample until the report: {"wall_s", "samples", "state", "frames"}."""
    page.set_input_files("#video-file", str(clip))
    started = time.monotonic()
    wait_for(page, "() => ['analysing', 'error'].includes(document.documentElement.dataset.videoState)", 60,
             f"{clip.name} taken", poll=0.05)
    samples: list[Sample] = []
    next_sample = started
    while True:
        state = page.evaluate("() => document.documentElement.dataset.videoState")
        if state in ("done", "cancelled", "error"):
            break
        if time.monotonic() - started > timeout_s:
            raise BenchError(f"{clip.name} was not analysed within {timeout_s:.0f} s")
        if time.monotonic() >= next_sample:
            read = _read(page)
            sample = {"t_s": round(time.monotonic() - started, 1), **read}
            sample["media_s"] = round(sample["progress"] * duration_s, 1)
            samples.append(sample)
            log(f"{clip.name}: {sample['media_s']:.0f} s of video in {sample['t_s']:.0f} s, tensors "
                f"{sample['numTensors']}, Python heap used {_mb(sample['pythonHeapUsed'])} MB, agent "
                f"{_mb(sample['agentBytes'])} MB")
            next_sample += every_s
        time.sleep(0.1)
    wall = time.monotonic() - started
    if state == "error":
        raise BenchError(f"the analysis of {clip.name} failed: {app_error(page)}")
    end = {"t_s": round(wall, 1), **_read(page), "media_s": duration_s}
    frames = page.evaluate("""() => { const t = document.getElementById('video-progress-text');
        return t ? t.textContent : ''; }""")
    return {"wall_s": round(wall, 2), "state": state, "samples": samples + [end], "progress_text": frames}


def _mb(value: Any) -> str:
    return f"{value / 1e6:.1f}" if isinstance(value, (int, float)) else "–"


def memory_at(samples: list[Sample], media_s: float) -> Sample | None:
    """The first sample with at least `media_s` of video analysed (None if the clip is shorter)."""
    return next((s for s in samples if s.get("media_s", 0) >= media_s), None)


def summarise(clip_minutes: float, run: dict) -> dict:
    """Speed (x real time) and memory after 1 minute of video and at the end; pure."""
    media_s = clip_minutes * 60
    first_minute = memory_at(run["samples"], min(60.0, media_s))
    end = run["samples"][-1]
    growth = {k: (end[k] - first_minute[k]) if isinstance(end.get(k), (int, float))
              and isinstance(first_minute and first_minute.get(k), (int, float)) else None
              for k in MEMORY_FIELDS} if first_minute else {}
    return {"minutes": clip_minutes, "wall_s": run["wall_s"], "x_real_time": round(media_s / run["wall_s"], 2),
            "state": run["state"], "memory_after_1min": first_minute, "memory_end": end,
            "growth_after_1min": growth}


# How the app decodes a file (its ?video_decoder= setting): WebCodecs in the engine's worker (the
# default), or seeking the page's <video> once per sampled frame (the way before, and the fallback).
DECODERS = ("webcodecs", "seek")


def bench(dist: Path, minutes: list[float], every_s: float, backend: str, query: str, decoders: list[str]) -> dict:
    from tests.support.browser import CANVAS_WEBGL_OFF, chromium

    if not (dist / "index.html").is_file():
        raise BenchError(f"{dist} has no index.html: build a site first (build.py site --dest DIR)")
    folder = REPO / "build" / "bench" / "videos"
    folder.mkdir(parents=True, exist_ok=True)
    clips = {m: make_clip(m, folder) for m in minutes}
    results = []
    console: list[str] = []
    queries = {}
    with serving(dist) as (server, _traffic), chromium(webgl=False, extra_flags=EXTRA_FLAGS, no_webgl=CANVAS_WEBGL_OFF,
                                                      camera_permission=False, deadline_s=None) as context:
        for decoder in decoders:
            app_query = queries[decoder] = f"?backend={backend}&video_decoder={decoder}" + (f"&{query}" if query else "")
            page = context.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text[:200]}"))
            page.goto(server.url + app_query)
            wait_for(page, """() => { const d = document.documentElement.dataset;
                     return d.appState === 'error' || d.appState === 'ready' || d.appState === 'running'; }""",
                     180, "the engine to boot")
            for m, clip in clips.items():
                if decoder != DECODERS[0] and m != min(clips):
                    continue          # the way before, beside the default on the shortest clip only
                run = analyse(page, clip, m * 60, every_s, timeout_s=m * 60 * 4 + 120)
                summary = summarise(m, run)
                log(f"{clip.name} ({decoder}): {summary['x_real_time']}x real time ({run['wall_s']} s wall)")
                results.append({"decoder": decoder, **summary, "samples": run["samples"],
                                "progress_text": run["progress_text"]})
            page.close()
    return {"url_queries": queries, "runs": results, "console_tail": console[-20:]}


def table(result: dict) -> str:
    rows = ["| clip | decoder | wall s | x real time | tensors 1 min -> end | Python heap used MB | wasm heap MB | "
            "TF.js wasm heap MB | agent MB |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in result["runs"]:
        a, b = r["memory_after_1min"] or {}, r["memory_end"]
        pair = lambda k, f=_mb: f"{f(a.get(k))} -> {f(b.get(k))}"  # noqa: E731
        rows.append(f"| {r['minutes']:g} min | {r['decoder']} | {r['wall_s']} | {r['x_real_time']} | "
                    f"{pair('numTensors', str)} | {pair('pythonHeapUsed')} | {pair('wasmHeap')} | "
                    f"{pair('tfjsWasmHeap')} | {pair('agentBytes')} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.video", description=(
        "Video analysis as a user runs it: a 30 fps 640x480 H.264 clip per --minutes, chosen in 'Analyse a "
        "video…' at the app's default settings; prints speed (x real time) and memory after 1 minute of video "
        "and at the end; writes <out>/<date>-video-<backend>.json."))
    p.add_argument("--minutes", default="1", help="comma-separated clip lengths in minutes (default 1; the issue: 1,10)")
    p.add_argument("--every", type=float, default=15.0, help="wall seconds between memory samples (default 15)")
    p.add_argument("--backend", default="wasm", choices=["wasm", "webgl"], help="TF.js backend (default wasm)")
    p.add_argument("--decoders", default=",".join(DECODERS),
                   help=f"how the app decodes the file, each in turn (default {','.join(DECODERS)}; any but "
                        f"{DECODERS[0]} on the shortest clip only)")
    p.add_argument("--query", default="", help="more URL settings for the app, e.g. video_fps=30")
    p.add_argument("--dist", type=Path, required=True, help="a built site (build.py site --dest DIR); never dist/")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for the JSON")
    p.add_argument("--note", default="", help="a note stored with the results (what else ran on the machine)")
    args = p.parse_args(argv)
    try:
        minutes = [float(m) for m in args.minutes.split(",") if m.strip()]
    except ValueError:
        p.error(f"--minutes takes numbers separated by commas, e.g. 1,10 (got {args.minutes!r})")
    date = _dt.date.today().isoformat()
    load_start = os.getloadavg()
    try:
        decoders = [d for d in args.decoders.split(",") if d]
        if set(decoders) - set(DECODERS):
            p.error(f"--decoders takes {','.join(DECODERS)} (got {args.decoders!r})")
        result = bench(args.dist.resolve(), minutes, args.every, args.backend, args.query, decoders)
    except BenchError as error:
        print(f"video: {error}", file=sys.stderr)
        return 1
    from bench.runner import chromium_version

    result = {"format": "moodcam-video/1", "date": date, "backend": args.backend, **result,
              "machine": {"cpus": os.cpu_count(), "chromium": chromium_version(), "loadavg_start": load_start,
                          "loadavg_end": os.getloadavg(), "note": args.note}}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{date}-video-{args.backend}.json"
    staging = path.with_suffix(".part")
    staging.write_text(json.dumps(result, indent=1) + "\n")
    staging.replace(path)
    print()
    print(table(result))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
