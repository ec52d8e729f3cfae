"""What would a second, tiled pass of full range find, and what would it cost? (issue 12)

    .venv/bin/python -m tests.parity.measure_tiled_pass      (needs .venv-mediapipe; ~1 min)

One 192 px pass of BlazeFace full range over a 640x480 frame stops near 44 px faces
(tests/parity/measure_smallest_face.py). A second pass on tiles gives each face more input
pixels: here four overlapping 352x272 tiles (a 2x2 grid, 64 px of overlap across, 64 px
down), each letterboxed to 192 px like the whole frame, so a face gets 192/352 = 0.55 input
pixels per frame pixel instead of 0.30. The same faces as measure_smallest_face.py are pasted
at each width, at the centre and near a corner; the TFLite model runs in MediaPipe's
reference environment on MediaPipe's own letterbox, our post-processing decodes each tile with
the manifest entry's spec, and the tile's detections are moved back into frame pixels. Found:
a detection's centre inside the face box, width within 0.5-2x (as measure_smallest_face.py).
False faces: every detection on frames with no face (the plain wall of the composed scenes,
scikit-image's coffee photo, uniform noise). Cost: detector runs per frame (1 against 1 + 4);
the ms per run is the bench's (`ours-far` detector_ms). Figures go to stdout and
test-results/tiled_pass.json.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT))

from tests.parity.measure_smallest_face import PLACES, SOURCES, _smallest  # noqa: E402
from tests.parity.reference_runs import found as _found, raw_outputs, run_reference, write_report  # noqa: E402

WIDTHS = [16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 64, 72, 96, 128]
TILE_W, TILE_H = 352, 272
TILES = [(x, y) for y in (0, 480 - TILE_H) for x in (0, 640 - TILE_W)]     # 2x2, overlapping


def _no_face_frames() -> dict[str, np.ndarray]:
    from PIL import Image
    from skimage import data

    from tests.fixtures import scenes

    coffee = np.asarray(Image.fromarray(data.coffee()).resize((640, 480), Image.BILINEAR))
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    return {"wall": scenes.compose(()), "coffee": coffee, "noise": noise}


def main() -> int:
    from PIL import Image

    from moodcam.detection import FaceDetectorPostprocess, Letterbox
    from moodcam.manifest import parse_manifest
    from tests.fixtures import scenes

    python = ROOT / ".venv-mediapipe" / "bin" / "python"
    if not python.exists():
        print(f"needs {python}", file=sys.stderr)
        return 2
    spec = parse_manifest((ROOT / "models" / "manifest.json").read_text())["blazeface_full_range"].detector_spec()
    post = FaceDetectorPostprocess(spec)
    cases = [(src, w, place) for src in SOURCES for w in WIDTHS for place in PLACES]
    frames = {f"{src}-{w}-{place}": scenes.compose((scenes.Face(src, w, *PLACES[place]),))
              for src, w, place in cases}
    frames.update(_no_face_frames())
    with tempfile.TemporaryDirectory() as tmp:
        paths, index = [], []
        for name, frame in frames.items():
            for tile in [None, *TILES]:
                crop = frame if tile is None else frame[tile[1]:tile[1] + TILE_H, tile[0]:tile[0] + TILE_W]
                path = Path(tmp) / f"{name}-{'full' if tile is None else '%d-%d' % tile}.png"
                Image.fromarray(np.ascontiguousarray(crop)).save(path)
                paths.append(str(path))
                index.append((name, tile))
        results = run_reference(python, ["--full-range"], paths)

    one_pass: dict[str, np.ndarray] = {}
    tiled: dict[str, list[np.ndarray]] = {name: [] for name in frames}
    for (name, tile), res in zip(index, results):
        regressors, scores = raw_outputs(res)
        if tile is None:
            boxes = post(regressors, scores, Letterbox.fit(640, 480, *spec.input_size)).boxes
            one_pass[name] = boxes
            tiled[name].append(boxes)
        else:
            boxes = post(regressors, scores, Letterbox.fit(TILE_W, TILE_H, *spec.input_size)).boxes
            tiled[name].append(boxes + np.array([tile[0], tile[1], tile[0], tile[1]], np.float32))

    report: dict = {"tiles": TILES, "tile_size": [TILE_W, TILE_H], "widths": WIDTHS, "frame": [640, 480]}
    for label, boxes_of in (("one_pass", lambda n: one_pass[n]),
                            ("one_pass_plus_tiles", lambda n: np.concatenate(tiled[n]).reshape(-1, 4))):
        found: dict = {src: {} for src in SOURCES}
        for src, w, place in cases:
            hit = _found(boxes_of(f"{src}-{w}-{place}"), scenes.Face(src, w, *PLACES[place]).box())
            found[src][w] = found[src].get(w, True) and hit
        false_faces = {name: int(len(boxes_of(name))) for name in ("wall", "coffee", "noise")}
        report[label] = {"smallest": {src: _smallest(found[src]) for src in SOURCES},
                         "found": {src: [w for w in WIDTHS if found[src][w]] for src in SOURCES},
                         "false_faces": false_faces,
                         "detector_runs_per_frame": 1 if label == "one_pass" else 1 + len(TILES)}
        r = report[label]
        print(f"{label}: smallest face found {r['smallest']}, found at {r['found']}, "
              f"detections on no-face frames {false_faces}, {r['detector_runs_per_frame']} detector run(s)")
    write_report("tiled_pass.json", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
