"""How narrow can a face be before the emotion net's reading of it is a guess? (issue 12)

    .venv/bin/python -m tests.parity.measure_readable_face          (~1 min)

The app labels a face narrower than FrameLogicConfig.min_readable_face_px "too far to read"
instead of reading it. This measures where that line belongs. Each large real face
(tests/parity/measure_voting.photos: scikit-image astronaut, smiling; cameraman, neutral;
matplotlib's Grace Hopper, neutral, when installed) is scaled down as a camera would see it from
farther away (area-averaged, so the face box is WIDTH frame pixels wide), then cut as the app cuts
it (crop_around_face, margin 0.1, bilinear to 64x64; 60 frames of camera-like jitter, as
measure_voting.jittered_crops) and read by the original Keras model (fer's mini-Xception).
Per width: how often the frame's top label is the label the net gives the full-size face, and
the mean total-variation distance of its probabilities from the full-size ones. Figures go to
stdout and test-results/readable_face.json.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT))

WIDTHS = [16, 20, 24, 28, 32, 36, 40, 44, 48, 56, 64, 80]
LARGE = ("astronaut", "camera", "hopper")      # faces over 90 px wide in their photos
FRAMES = 60


def scaled(image: np.ndarray, box, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The grey image scaled so the face box is `width` px wide (area averaging), and the box."""
    from PIL import Image

    b = np.asarray(box, dtype=np.float64)
    s = width / (b[2] - b[0])
    h, w = image.shape
    size = (max(8, round(w * s)), max(8, round(h * s)))
    small = Image.fromarray(image.astype(np.float32), mode="F").resize(size, Image.BOX)
    return np.asarray(small, dtype=np.float64), b * np.array([size[0] / w, size[1] / h] * 2)


def read(model, image, box, seed: int) -> np.ndarray:
    from tests.parity.measure_voting import jittered_crops

    crops = jittered_crops(image, box, FRAMES, np.random.default_rng(seed))       # (F, 64, 64)
    x = ((crops / 255.0 - 0.5) * 2.0)[..., None].astype(np.float32)                 # (F, 64, 64, 1)
    return np.asarray(model.predict(x, batch_size=FRAMES, verbose=0), np.float64)   # (F, 7)


def main() -> int:
    from moodcam.mood.labels import EMOTIONS
    from tests.parity.measure_voting import emotion_model, photos

    model = emotion_model()
    rows = []
    for name, (image, box) in photos().items():
        if name not in LARGE:
            continue
        full = read(model, image, box, seed=1)
        label = int(np.argmax(full.mean(axis=0)))
        row = {"photo": name, "full_width": round(float(box[2] - box[0]), 1), "label": EMOTIONS[label],
               "full_agreement": float(np.mean(full.argmax(axis=1) == label)), "widths": {}}
        for width in WIDTHS:
            small, small_box = scaled(image, box, width)
            probs = read(model, small, small_box, seed=width)
            row["widths"][width] = {
                "agreement": round(float(np.mean(probs.argmax(axis=1) == label)), 3),
                "tv_distance": round(float(0.5 * np.abs(probs.mean(axis=0) - full.mean(axis=0)).sum()), 3),
                "top": EMOTIONS[int(np.argmax(probs.mean(axis=0)))]}
        rows.append(row)
    print("| photo (label at full size) | " + " | ".join(f"{w} px" for w in WIDTHS) + " |")
    print("| --- |" + " --- |" * len(WIDTHS))
    for r in rows:
        cells = [f"{r['widths'][w]['agreement']:.2f} / {r['widths'][w]['tv_distance']:.2f}" for w in WIDTHS]
        print(f"| {r['photo']} ({r['label']}, {r['full_agreement']:.2f} at {r['full_width']:.0f} px) | "
              + " | ".join(cells) + " |")
    print("cells: share of frames whose top label is the full-size label / total-variation distance "
          "of the mean probabilities from the full-size ones")
    out = ROOT / "test-results" / "readable_face.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"widths": WIDTHS, "frames": FRAMES, "photos": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
