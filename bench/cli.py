"""`python3 build.py bench [options]` (or `.venv/bin/python -m bench.cli` from the repository root).

Figures, never asserts: see bench/README.md for how to read them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.options import CLIPS, COLD_ENGINES, ENGINES, PARTS_CLIPS, PIPELINES, Options
from bench.runner import run
from bench.site import REPO, exit_status


def _list(value: str, allowed) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(allowed)}")
    return items


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="build.py bench", description=(
        "Benchmark moodcam in headless Debian Chromium against its plain-JS floor, @vladmandic/human and "
        "MediaPipe's FaceDetector, on fake-camera clips of real photos. Writes bench/results/<date>-<backend>.json "
        "and prints markdown tables. Never gates anything."))
    p.add_argument("--backend", default="all", choices=["wasm", "webgl", "all"],
                   help="TF.js backend(s) to measure (webgl is SwiftShader on a machine without a GPU)")
    p.add_argument("--frames", type=int, default=100, help="measured frames per pipeline on wasm (default 100)")
    p.add_argument("--warmup", type=int, default=15, help="frames dropped before measuring, wasm (default 15)")
    p.add_argument("--webgl-frames", type=int, default=12, help="measured frames on webgl (default 12; SwiftShader is slow)")
    p.add_argument("--webgl-warmup", type=int, default=3)
    p.add_argument("--clips", type=lambda v: _list(v, CLIPS), default=list(CLIPS),
                   help=f"clips for wasm, comma-separated (default {','.join(CLIPS)})")
    p.add_argument("--webgl-clips", type=lambda v: _list(v, CLIPS), default=["one_face"],
                   help="clips for webgl (default one_face)")
    p.add_argument("--parts-clips", type=lambda v: _list(v, CLIPS), default=list(PARTS_CLIPS),
                   help=f"clips for the face-parts pipeline ours-parts, on every backend (default {','.join(PARTS_CLIPS)})")
    p.add_argument("--pipelines", type=lambda v: _list(v, PIPELINES), default=list(PIPELINES),
                   help=f"subset of {','.join(PIPELINES)}")
    p.add_argument("--ab-rounds", type=int, default=3,
                   help="extra worker/page windows each (alternating order) on wasm one_face at equal cadence, "
                        "for issue 11's worker-vs-main-thread check (default 3, --quick 1; 0 skips)")
    p.add_argument("--no-cold", action="store_true", help="skip the cold-start / first-visit measurements")
    p.add_argument("--cold-engines", type=lambda v: _list(v, COLD_ENGINES), default=list(COLD_ENGINES),
                   help="engines measured for cold start on wasm: worker (as shipped), page (?worker=0), the "
                        "peer human (its first face with an emotion, same run) and pyodide-floor (the engine's own "
                        "start of Pyodide and numpy with nothing beside it, to numpy imported) "
                        "(default worker,page,human,pyodide-floor)")
    p.add_argument("--webgl-cold-engines", type=lambda v: _list(v, ENGINES), default=["worker"],
                   help="engines measured for cold start on webgl (default worker)")
    p.add_argument("--cold-repeats", type=int, default=3,
                   help="return visits per engine (medians are reported; default 3, --quick 1)")
    p.add_argument("--no-throttle", action="store_true",
                   help="skip the cold-start visits with the page's main thread throttled 4x (a return visit, "
                        "and a first visit in a fresh profile). That CDP throttle slows the page's main thread only "
                        "(Chromium refuses it for workers): not a phone figure; see --phone")
    p.add_argument("--phone", action="store_true",
                   help="the phone profile: cold visits (first + return, --cold-repeats rounds) at full speed and "
                        "with the WHOLE browser (every process and thread) under a cgroup CPU quota, all cold "
                        "engines in the same run; CPU-seconds to the first answer on every visit (needs root and "
                        "cgroup v1 cpu,cpuacct; skipped with a word where they are missing)")
    p.add_argument("--phone-quota", type=float, default=None, metavar="Q",
                   help="the phone profile's CPU quota in cores (default 0.5, as phone-cpu --quota 0.5: half a core; "
                        "implies --phone)")
    p.add_argument("--note", default="", help="a note stored with the results (e.g. what else ran on the machine)")
    p.add_argument("--core-frames", type=int, default=2000,
                   help="frames for bench_core.run() inside Pyodide (0 skips it; default 2000)")
    p.add_argument("--dist", type=Path, default=None,
                   help="use this built site instead of building one (default: build into build/bench/dist)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for the JSON results")
    p.add_argument("--raw", action="store_true", help="keep every per-frame record in the JSON (large)")
    p.add_argument("--quick", action="store_true",
                   help="about 2 minutes: wasm only, one_face (face parts too), 40 frames after 10, cold start "
                        "(one return visit), 300 core frames")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    backends = ["wasm", "webgl"] if args.backend == "all" else [args.backend]
    opts = Options(backends=backends, clips=args.clips, frames=args.frames, warmup=args.warmup,
                   webgl_frames=args.webgl_frames, webgl_warmup=args.webgl_warmup, webgl_clips=args.webgl_clips,
                   parts_clips=args.parts_clips,
                   pipelines=args.pipelines, cold=not args.no_cold, core_frames=args.core_frames,
                   cold_engines=args.cold_engines, webgl_cold_engines=args.webgl_cold_engines,
                   cold_throttle=not args.no_throttle, phone=args.phone or args.phone_quota is not None,
                   phone_quota=args.phone_quota if args.phone_quota is not None else 0.5, cold_repeats=max(1, args.cold_repeats), note=args.note,
                   ab_rounds=max(0, args.ab_rounds),
                   dist=args.dist.resolve() if args.dist else None, out=args.out.resolve(), keep_raw=args.raw)
    if args.quick:
        if args.backend == "all":
            opts.backends = ["wasm"]
        opts.clips = ["one_face"]
        opts.parts_clips = [c for c in opts.parts_clips if c == "one_face"]
        opts.frames, opts.warmup = min(args.frames, 40), min(args.warmup, 10)
        opts.webgl_frames, opts.webgl_warmup = min(args.webgl_frames, 8), min(args.webgl_warmup, 2)
        opts.core_frames = min(args.core_frames, 300)
        opts.cold_repeats = 1
        opts.ab_rounds = min(opts.ab_rounds, 1)
    return exit_status("bench", lambda: run(opts))


if __name__ == "__main__":
    sys.exit(main())
