"""A small synthetic detection set: flat shapes pasted onto real photos, written as VOC, YOLO and CSV.

Backgrounds are crops of scikit-image's bundled photos (astronaut, coffee,
chelsea, rocket, ...; public domain / CC0 / BSD), so the detector has to find
the shapes in real clutter, not on a blank canvas. Image sizes vary and are
not square, so the letterbox matters. Each shape's box is exact (drawn from
the box, axis-aligned), and shapes never overlap.

    scenes = make_scenes(60, seed=0)
    write_all(scenes, root)        # root/voc, root/yolo, root/csv, same images in each
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

__all__ = ["CLASSES", "Scene", "make_scenes", "write_voc", "write_yolo", "write_csv", "write_all"]

CLASSES = ("circle", "square", "triangle")
_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "immunohistochemistry", "brick",
           "grass", "gravel", "hubble_deep_field")


@dataclasses.dataclass
class Scene:
    name: str                 # file stem
    image: np.ndarray         # (H, W, 3) uint8
    boxes: np.ndarray         # (K, 4) xyxy pixels
    labels: list[str]


def _photos() -> list[np.ndarray]:
    from skimage import data

    out = []
    for name in _PHOTOS:
        a = getattr(data, name)()
        if a.ndim == 2:
            a = np.stack([a] * 3, axis=-1)
        out.append(np.ascontiguousarray(a[..., :3]).astype(np.uint8))
    return out


def _background(rng: np.random.Generator, photos, w: int, h: int) -> np.ndarray:
    from PIL import Image

    photo = photos[int(rng.integers(len(photos)))]
    ph, pw = photo.shape[:2]
    # A random crop of random scale, resized to w x h.
    scale = rng.uniform(0.5, 1.0)
    cw = int(min(pw, ph * w / h) * scale)
    ch = int(cw * h / w)
    x0 = int(rng.integers(0, pw - cw + 1))
    y0 = int(rng.integers(0, ph - ch + 1))
    crop = Image.fromarray(photo[y0:y0 + ch, x0:x0 + cw]).resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(crop).copy()


def _draw(image: np.ndarray, kind: str, box, colour, outline) -> np.ndarray:
    from PIL import Image, ImageDraw

    im = Image.fromarray(image)
    d = ImageDraw.Draw(im)
    x1, y1, x2, y2 = box
    # PIL's shapes cover pixels x1..x2 inclusive; the box edges are x1 and x2 + 1.
    r = (x1, y1, x2 - 1, y2 - 1)
    if kind == "circle":
        d.ellipse(r, fill=colour, outline=outline, width=2)
    elif kind == "square":
        d.rectangle(r, fill=colour, outline=outline, width=2)
    else:
        d.polygon([((x1 + x2 - 1) / 2, y1), (x2 - 1, y2 - 1), (x1, y2 - 1)], fill=colour, outline=outline)
    return np.asarray(im).copy()


def make_scenes(count: int, seed: int = 0, *, classes=CLASSES, max_objects: int = 3,
                size_range=(0.22, 0.45)) -> list[Scene]:
    """``count`` scenes with 1..max_objects non-overlapping shapes each, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    photos = _photos()
    scenes = []
    for i in range(count):
        w = int(rng.integers(200, 321))
        h = int(rng.integers(160, 281))
        image = _background(rng, photos, w, h)
        boxes: list[tuple[int, int, int, int]] = []
        labels: list[str] = []
        for _ in range(int(rng.integers(1, max_objects + 1))):
            for _attempt in range(30):
                side = int(min(w, h) * rng.uniform(*size_range))
                bw = side
                bh = int(side * rng.uniform(0.8, 1.25))
                if bh >= h - 4:
                    continue
                x1 = int(rng.integers(2, w - bw - 1))
                y1 = int(rng.integers(2, h - bh - 1))
                box = (x1, y1, x1 + bw, y1 + bh)
                if all(box[2] + 4 <= b[0] or b[2] + 4 <= box[0] or box[3] + 4 <= b[1] or b[3] + 4 <= box[1]
                       for b in boxes):
                    break
            else:
                continue
            kind = classes[int(rng.integers(len(classes)))]
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            outline = tuple(int(v) for v in (np.asarray(colour) * 0.5).astype(int))
            image = _draw(image, kind, box, colour, outline)
            boxes.append(box)
            labels.append(kind)
        scenes.append(Scene(f"img_{i:04d}", image, np.asarray(boxes, np.float32).reshape(-1, 4), labels))
    return scenes


def _save_image(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, quality=92)


def write_voc(scenes: list[Scene], root: Path) -> Path:
    """LabelImg-style XML next to each JPEG (Pascal VOC)."""
    root.mkdir(parents=True, exist_ok=True)
    for s in scenes:
        _save_image(s.image, root / f"{s.name}.jpg")
        h, w = s.image.shape[:2]
        objs = "".join(
            f"  <object>\n    <name>{escape(lab)}</name>\n    <pose>Unspecified</pose>\n"
            f"    <truncated>0</truncated>\n    <difficult>0</difficult>\n    <bndbox>\n"
            f"      <xmin>{int(b[0])}</xmin>\n      <ymin>{int(b[1])}</ymin>\n"
            f"      <xmax>{int(b[2])}</xmax>\n      <ymax>{int(b[3])}</ymax>\n    </bndbox>\n  </object>\n"
            for b, lab in zip(s.boxes, s.labels))
        (root / f"{s.name}.xml").write_text(
            f"<annotation>\n  <folder>{root.name}</folder>\n  <filename>{s.name}.jpg</filename>\n"
            f"  <source>\n    <database>moodcam synthetic</database>\n  </source>\n"
            f"  <size>\n    <width>{w}</width>\n    <height>{h}</height>\n    <depth>3</depth>\n  </size>\n"
            f"  <segmented>0</segmented>\n{objs}</annotation>\n")
    return root


def write_yolo(scenes: list[Scene], root: Path, classes=CLASSES) -> Path:
    """images/*.jpg + labels/*.txt (class cx cy w h, normalised) + classes.txt (YOLO)."""
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("\n".join(classes) + "\n")
    for s in scenes:
        _save_image(s.image, root / "images" / f"{s.name}.jpg")
        h, w = s.image.shape[:2]
        lines = []
        for b, lab in zip(s.boxes, s.labels):
            cx, cy = (b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h
            lines.append(f"{list(classes).index(lab)} {cx:.6f} {cy:.6f} {(b[2] - b[0]) / w:.6f} "
                         f"{(b[3] - b[1]) / h:.6f}")
        (root / "labels" / f"{s.name}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    return root


def write_csv(scenes: list[Scene], root: Path, filename: str = "labels.csv") -> Path:
    """images/*.jpg + one CSV with the 9 columns of the TF Object Detection API's CSV."""
    root.mkdir(parents=True, exist_ok=True)
    rows = ["filename,width,height,class,xmin,ymin,xmax,ymax,source"]
    for s in scenes:
        _save_image(s.image, root / "images" / f"{s.name}.jpg")
        h, w = s.image.shape[:2]
        for b, lab in zip(s.boxes, s.labels):
            rows.append(f"{s.name}.jpg,{w},{h},{lab},{int(b[0])},{int(b[1])},{int(b[2])},{int(b[3])},synthetic")
    (root / filename).write_text("\n".join(rows) + "\n")
    return root


def write_all(scenes: list[Scene], root: Path) -> dict[str, Path]:
    """The same scenes in all three formats: {"voc": root/voc, "yolo": root/yolo, "csv": root/csv}."""
    root = Path(root)
    for sub in ("voc", "yolo", "csv"):
        shutil.rmtree(root / sub, ignore_errors=True)
    return {"voc": write_voc(scenes, root / "voc"), "yolo": write_yolo(scenes, root / "yolo"),
            "csv": write_csv(scenes, root / "csv")}
