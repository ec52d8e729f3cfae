"""Train-detector variants side by side on held-out lists: each variant x seed trained with the command that
ships (`build.py train-detector --splits`), its best weights scored once on the test list (`build.py
eval-detector --split test`), and the seeds summarised (mean, lowest, highest, spread) into one JSON.

    python -m bench.detector_starts --data TREES --format voc --splits bench/splits/trees \\
        --variant default= --variant none="--init none" --seeds 0,1,2 --out bench/results/X.json

A variant is NAME=ARGS: ARGS are added to the shared --common arguments (shell-quoted words). Runs go one at a
time (2 cores: two at once would halve each one's time budget); run folders are kept under --runs.
Nothing here is timed against a limit: training time is reported beside the scores.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
METRICS = ("AP", "AP50", "AP75", "AR10")


def _summary(values: list[float]) -> dict:
    return {"mean": round(statistics.fmean(values), 4), "min": round(min(values), 4), "max": round(max(values), 4),
            "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0}


def run_one(python: str, data: str, fmt: str, splits: str, words: list[str], seed: int, run: Path) -> dict:
    """Train and score one variant at one seed; return its record (commands, timings, val and test scores)."""
    train = [python, str(REPO / "build.py"), "train-detector", "--data", data, "--format", fmt, "--splits", splits,
             "--seed", str(seed), "--out", str(run), "--no-export", "--quiet", *words]
    score = [python, str(REPO / "build.py"), "eval-detector", "--data", data, "--format", fmt, "--model", str(run),
             "--splits", splits, "--split", "test", "--json", str(run / "test.json")]
    t0 = time.monotonic()
    for cmd in (train, score):
        done = subprocess.run(cmd, capture_output=True, text=True)
        (run.parent / f"{run.name}.log").open("a").write(f"$ {shlex.join(cmd)}\n{done.stdout}{done.stderr}\n")
        if done.returncode != 0:
            raise SystemExit(f"failed ({done.returncode}): {shlex.join(cmd)}\n{done.stderr[-2000:]}")
    wall = time.monotonic() - t0
    result = json.loads((run / "eval.json").read_text())
    history = json.loads((run / "history.json").read_text())
    best = max(history, key=lambda h: h["AP"])
    test = json.loads((run / "test.json").read_text())
    return {"seed": seed, "train_command": shlex.join(train[1:]), "wall_seconds": round(wall, 1),
            "train_seconds": round(result["train_seconds"], 1), "epochs_run": result["epochs_run"],
            "best_epoch": result["best_epoch"], "stop_reason": result["stop_reason"],
            "val": {k: round(result["stats"][k], 4) for k in METRICS if k in result["stats"]},
            "val_best_epoch_history": {k: round(best[k], 4) for k in ("AP", "AP50", "AP75")},
            "test": {k: round(test[k], 4) for k in METRICS if k in test}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.detector_starts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--format", required=True, choices=("voc", "yolo", "csv"))
    p.add_argument("--splits", required=True, metavar="LISTS_DIR")
    p.add_argument("--variant", action="append", required=True, metavar="NAME=ARGS")
    p.add_argument("--common", default="", help="arguments every variant gets (shell-quoted)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--runs", default="runs/detector-starts", metavar="DIR")
    p.add_argument("--out", required=True, metavar="FILE.json")
    p.add_argument("--note", default="", help="what the machine was doing, written into the JSON")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    variants = dict(v.split("=", 1) for v in args.variant)
    python = sys.executable
    record = {"what": "build.py train-detector variants on held-out lists, test list scored once per run",
              "data": args.data, "format": args.format, "splits": args.splits, "common": args.common,
              "seeds": seeds, "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{os.cpu_count()} CPU cores; {args.note}".rstrip("; "), "variants": {}}
    out = Path(args.out)
    for name, extra in variants.items():
        words = shlex.split(args.common) + shlex.split(extra)
        runs = []
        for seed in seeds:
            run = Path(args.runs) / f"{name}-s{seed}"
            if run.exists():
                raise SystemExit(f"{run} exists: pick another --runs folder")
            run.parent.mkdir(parents=True, exist_ok=True)
            runs.append(run_one(python, args.data, args.format, args.splits, words, seed, run))
            print(f"{name} seed {seed}: test {runs[-1]['test']}  val {runs[-1]['val']}  "
                  f"{runs[-1]['train_seconds']} s, {runs[-1]['epochs_run']} epochs", flush=True)
        record["variants"][name] = {
            "args": shlex.join(words), "runs": runs,
            "summary": {"train_seconds": _summary([r["train_seconds"] for r in runs]),
                        **{f"val_{k}": _summary([r["val"][k] for r in runs]) for k in METRICS if k in runs[0]["val"]},
                        **{f"test_{k}": _summary([r["test"][k] for r in runs]) for k in METRICS
                           if k in runs[0]["test"]}}}
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".partial")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, out)
    for name, v in record["variants"].items():
        s = v["summary"]
        print(f"{name:>12}: test AP {s['test_AP']['mean']:.3f} AP50 {s['test_AP50']['mean']:.3f} "
              f"AP75 {s['test_AP75']['mean']:.3f} | val AP {s['val_AP']['mean']:.3f} AP75 {s['val_AP75']['mean']:.3f}"
              f" | {s['train_seconds']['mean']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
