"""Faces found and false faces of today's far range on small faces and non-faces, and what a second
look on each candidate would keep (issue 27).

    .venv/bin/python -m tests.parity.measure_second_look      (needs .venv-mediapipe; a few minutes)

Frames: tests/fixtures/small_faces.py (real faces 20-60 px, real non-faces, whole photos). The far
range as the app runs it: BlazeFace full range on the whole 640x480 frame and on each tile of the
2x2 sweep (moodcam.detection.tiles, from_tile's filter), TFLite in MediaPipe's reference environment
on MediaPipe's letterbox, decoded by our post-processing with the manifest's spec at the app's
default threshold 0.5; detections of the five runs merged (IoU > 0.3 is one face, as the tracker
does). Found: a detection's centre inside a true face box, width 0.5-2x (measure_smallest_face.py);
any other detection is a false face.

The second look: a candidate narrower than the near model's reliable width (moodcam.second_look)
or found by a tile run is cut out as a square `context` x its width around its centre and handed
to BlazeFace short range (128 px: the crop is upscaled); its score is the best short-range
detection whose centre lies in the candidate's box with a width 0.5-2x of it; a candidate under
20 px (SecondLookConfig.min_face_fraction) is refused without a look. Swept: the context and the
threshold; reported: faces found, false faces, precision and recall per setting, and for the
rule the app uses (SecondLookConfig's defaults) the look's own precision and recall on the
candidates it looks at. Figures go to stdout and test-results/second_look.json.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT))

from tests.parity.measure_smallest_face import _found, run_reference, write_report  # noqa: E402

THRESHOLDS = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
CONTEXTS = (2.0, 2.5, 3.0, 4.0)


def _merge(boxes: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from moodcam.detection.boxes import iou_matrix
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    for i in order:
        if not keep or iou_matrix(boxes[i:i + 1], boxes[keep]).max() <= 0.3:
            keep.append(int(i))
    return boxes[keep].reshape(-1, 4), scores[keep]


def _is_face(box: np.ndarray, truths) -> bool:
    return any(_found(box[None], t) for t in truths)


def main() -> int:
    from PIL import Image

    from moodcam.detection import FaceDetectorPostprocess, Letterbox
    from moodcam.detection.tiles import TileConfig, from_tile, tile_grid
    from moodcam.manifest import parse_manifest
    from moodcam.second_look import SecondLookConfig, look_region
    from tests.fixtures import small_faces

    python = ROOT / ".venv-mediapipe" / "bin" / "python"
    if not python.exists():
        print(f"needs {python}", file=sys.stderr)
        return 2
    manifest = parse_manifest((ROOT / "models" / "manifest.json").read_text())
    far = FaceDetectorPostprocess(manifest["blazeface_full_range"].detector_spec(min_score=0.5))
    near = FaceDetectorPostprocess(manifest["blazeface_short_range"].detector_spec(min_score=0.05))
    tiles_cfg = TileConfig()
    tiles = tile_grid(640, 480, tiles_cfg)
    small = tiles_cfg.small_face_px(640, 480)
    cases = small_faces.cases()
    look_cfg = SecondLookConfig()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, case in enumerate(cases):
            for j, t in enumerate([None, *tiles]):
                img = case.frame if t is None else case.frame[int(t.y):int(t.y + t.height), int(t.x):int(t.x + t.width)]
                path = Path(tmp) / f"{i}-{j}.png"
                Image.fromarray(np.ascontiguousarray(img)).save(path)
                paths.append(str(path))
        print(f"{len(cases)} frames, {len(paths)} far-range runs…", file=sys.stderr)
        results = run_reference(python, ["--full-range"], paths, timeout=3600)
        candidates = []     # (case index, box, score, from_tile)
        for i, case in enumerate(cases):
            boxes, scores, tiled = [], [], []
            for j, t in enumerate([None, *tiles]):
                res = results[i * (1 + len(tiles)) + j]
                raw = (np.asarray(res["raw"]["regressors"], np.float32), np.asarray(res["raw"]["classificators"], np.float32))
                if t is None:
                    det = far(*raw, Letterbox.fit(640, 480, 192, 192))
                else:
                    det = from_tile(far(*raw, Letterbox.fit(t.width, t.height, 192, 192)), t, (640, 480), small,
                                    tiles_cfg.edge_px)
                boxes.append(det.boxes)
                scores.append(det.scores)
                tiled += [t is not None] * len(det.scores)
            b, s = np.concatenate(boxes).reshape(-1, 4), np.concatenate(scores)
            mb, ms = _merge(b, s)
            for box, score in zip(mb, ms):
                # "found by a tile run": no whole-frame detection overlaps it
                whole = np.concatenate(boxes[:1]).reshape(-1, 4)
                only_tile = not any(_found(w[None], box) for w in whole)
                candidates.append((i, box, float(score), only_tile))
        looks = []          # (candidate index, context, square region)
        for ci, (i, box, _, only_tile) in enumerate(candidates):
            if not look_cfg.needs_look(box, 640, 480, only_tile):
                continue
            for context in CONTEXTS:
                region = look_region(box, 640, 480, context)
                x, y, side = int(region.x), int(region.y), int(region.width)
                path = Path(tmp) / f"look-{ci}-{context}.png"
                crop = cases[i].frame[y:y + side, x:x + side]
                Image.fromarray(np.ascontiguousarray(crop)).save(path)
                looks.append((ci, context, region, str(path)))
        print(f"{len(candidates)} candidates, {len(looks)} second looks…", file=sys.stderr)
        look_results = run_reference(python, [], [p for *_, p in looks], timeout=3600) if looks else []

    look_score: dict[tuple[int, float], float] = {}
    for (ci, context, region, _), res in zip(looks, look_results):
        raw = (np.asarray(res["raw"]["regressors"], np.float32), np.asarray(res["raw"]["classificators"], np.float32))
        det = near(*raw, Letterbox.fit(region.width, region.height, 128, 128))
        boxes = det.boxes + np.array([region.x, region.y, region.x, region.y], np.float32)
        box = candidates[ci][1]
        ok = [float(sc) for b, sc in zip(boxes, det.scores) if _found(b[None], box)]
        look_score[(ci, context)] = max(ok, default=0.0)

    total_faces = sum(len(c.faces) for c in cases)
    truth_of = [c.faces for c in cases]

    def tally(keep) -> dict:
        found_faces = set()
        false = 0
        false_names = []
        for ci, (i, box, _, _) in enumerate(candidates):
            if not keep(ci):
                continue
            hits = [k for k, t in enumerate(truth_of[i]) if _found(box[None], t)]
            if hits:
                found_faces.add((i, hits[0]))
            else:
                false += 1
                false_names.append(f"{cases[i].name} @ {int(box[2] - box[0])} px")
        found = len(found_faces)
        return {"found": found, "of": total_faces, "false": false,
                "precision": round(found / max(found + false, 1), 3), "recall": round(found / total_faces, 3),
                "false_faces": false_names}

    report: dict = {"frames": len(cases), "true_faces": total_faces, "candidates": len(candidates),
                    "far_today": tally(lambda ci: True), "second_look": {}, "per_candidate": [
                        {"frame": cases[i].name, "width": round(float(box[2] - box[0]), 1), "far_score": round(sc, 3),
                         "only_tile": tile, "face": _is_face(box, truth_of[i]),
                         "look": {str(c): round(look_score.get((ci, c), -1.0), 3) for c in CONTEXTS}}
                        for ci, (i, box, sc, tile) in enumerate(candidates)]}
    t = report["far_today"]
    print(f"far range today: {t['found']} of {total_faces} faces, {t['false']} false faces "
          f"(precision {t['precision']}, recall {t['recall']})")
    for f in t["false_faces"]:
        print("   false:", f)
    for context in CONTEXTS:
        for thr in THRESHOLDS:
            def keep(ci, context=context, thr=thr):
                _, box, _, only_tile = candidates[ci]
                if not look_cfg.needs_look(box, 640, 480, only_tile):
                    return True
                return not look_cfg.too_small(box, 640, 480) and look_score[(ci, context)] >= thr
            r = tally(keep)
            report["second_look"][f"context {context}, threshold {thr}"] = r
            print(f"second look (short range, context {context}x, threshold {thr}): {r['found']} of {total_faces} "
                  f"faces, {r['false']} false (precision {r['precision']}, recall {r['recall']})"
                  + (f"; false: {r['false_faces'][:4]}" if r["false"] else ""))
    chosen = f"context {look_cfg.context}, threshold {look_cfg.threshold}"
    looked = [ci for ci, (_, box, _, tile) in enumerate(candidates) if look_cfg.needs_look(box, 640, 480, tile)]
    faces_looked = [ci for ci in looked if _is_face(candidates[ci][1], truth_of[candidates[ci][0]])]
    kept = [ci for ci in looked if not look_cfg.too_small(candidates[ci][1], 640, 480)
            and look_score[(ci, look_cfg.context)] >= look_cfg.threshold]
    kept_faces = [ci for ci in kept if ci in faces_looked]
    report["chosen"] = {"rule": chosen, "min_face_px": round(look_cfg.min_face_fraction * 640, 1),
                        "looked": len(looked), "faces_looked": len(faces_looked), "confirmed": len(kept),
                        "look_precision": round(len(kept_faces) / max(len(kept), 1), 3),
                        "look_recall": round(len(kept_faces) / max(len(faces_looked), 1), 3),
                        **report["second_look"][chosen]}
    c = report["chosen"]
    print(f"chosen ({chosen}, under {c['min_face_px']} px refused): {c['looked']} candidates looked at, "
          f"{c['faces_looked']} of them faces; confirmed {c['confirmed']}: precision {c['look_precision']}, "
          f"recall {c['look_recall']}; in all {c['found']} of {total_faces} faces, {c['false']} false")
    write_report("second_look.json", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
