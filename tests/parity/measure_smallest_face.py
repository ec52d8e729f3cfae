"""How small a face does each range find in a 640x480 frame? (issue 12)

    .venv/bin/python -m tests.parity.measure_smallest_face      (needs .venv-mediapipe; ~1 min)

One real face (scikit-image astronaut, and the cameraman) is pasted at a given
width (its detector box, in frame pixels) into a plain 640x480 frame
(tests/fixtures/scenes.py), at the centre and near a corner. MediaPipe's
reference environment runs each range's TFLite model on MediaPipe's own
letterbox (128 px short range, 192 px full range) and its own Python pipeline;
our post-processing decodes the raw outputs with the manifest entry's spec. A
face counts as found when a detection's centre lies inside the face box and its
width is within 0.5-2x of the face's. "Smallest" is the smallest width from which
on every larger width is found too (at both places). Figures go to stdout and
test-results/smallest_face.json.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT))

from tests.parity.reference_runs import found as _found, raw_outputs, run_reference, write_report  # noqa: E402

WIDTHS = [16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 64, 72, 80, 96, 112, 128, 160, 200, 250]
PLACES = {"centre": (320, 240), "corner": (150, 130)}
SOURCES = ["astronaut", "camera"]
RANGES = {"blazeface_short_range": [], "blazeface_full_range": ["--full-range"]}


def _smallest(found: dict[int, bool]) -> int | None:
    widths = sorted(found)
    for i, w in enumerate(widths):
        if all(found[v] for v in widths[i:]):
            return w
    return None


def main() -> int:
    from PIL import Image

    from moodcam.detection import FaceDetectorPostprocess, Letterbox
    from moodcam.manifest import parse_manifest
    from tests.fixtures import scenes

    python = ROOT / ".venv-mediapipe" / "bin" / "python"
    if not python.exists():
        print(f"needs {python}", file=sys.stderr)
        return 2
    manifest = parse_manifest((ROOT / "models" / "manifest.json").read_text())
    cases = [(src, w, place) for src in SOURCES for w in WIDTHS for place in PLACES]
    report: dict = {"widths": WIDTHS, "places": PLACES, "frame": [640, 480], "ranges": {}}
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for src, w, place in cases:
            cx, cy = PLACES[place]
            frame = scenes.compose((scenes.Face(src, w, cx, cy),))
            path = Path(tmp) / f"{src}-{w}-{place}.png"
            Image.fromarray(frame).save(path)
            paths.append(str(path))
        for name, flags in RANGES.items():
            results = run_reference(python, flags, paths)
            spec = manifest[name].detector_spec()
            post = FaceDetectorPostprocess(spec)
            ours: dict = {src: {} for src in SOURCES}
            theirs: dict = {src: {} for src in SOURCES}
            per_place: dict = {f"{src}-{place}": [] for src in SOURCES for place in PLACES}
            for (src, w, place), res in zip(cases, results):
                cx, cy = PLACES[place]
                truth = scenes.Face(src, w, cx, cy).box()
                det = post(*raw_outputs(res), Letterbox.fit(640, 480, *spec.input_size))
                mp_boxes = np.asarray([d["box_xyxy"] for d in res["mediapipe"]]).reshape(-1, 4)
                hit = _found(det.boxes, truth)
                if hit:
                    per_place[f"{src}-{place}"].append(w)
                ours[src][w] = ours[src].get(w, True) and hit
                theirs[src][w] = theirs[src].get(w, True) and _found(mp_boxes, truth)
            report["ranges"][name] = {
                "input": list(spec.input_size),
                "smallest_ours": {src: _smallest(ours[src]) for src in SOURCES},
                "smallest_mediapipe": {src: _smallest(theirs[src]) for src in SOURCES},
                "found_ours": {src: [w for w in WIDTHS if ours[src][w]] for src in SOURCES},
                "found_ours_per_place": per_place,
            }
            r = report["ranges"][name]
            print(f"{name} ({spec.input_size[0]} px): smallest face found, ours {r['smallest_ours']}, "
                  f"MediaPipe's pipeline {r['smallest_mediapipe']}; found at {r['found_ours_per_place']}")
    write_report("smallest_face.json", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
