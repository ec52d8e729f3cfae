"""The face mode's captions, pure (no js): what each face's caption says, where it goes so that
none hides another (issue 27: a group's captions used to lie under each other), and the page's
words when faces are there but all too far to read. browser.render draws them."""
from __future__ import annotations

from ..mood.presentation import PRESENTATIONS

__all__ = ["TOO_FAR", "TOO_FAR_PROMPT", "Rect", "too_far_to_read", "place_tags", "face_caption"]

TOO_FAR = "Too far to read: come closer"
TOO_FAR_PROMPT = "Faces narrower than 44 px are too far to read their expression."


def too_far_to_read(faces) -> bool:
    """Faces are there but none is wide enough to read: the page gives no mood and says why."""
    return bool(faces) and not any(getattr(f, "readable", True) for f in faces)


Rect = tuple[float, float, float, float]          # x, y, width, height


def _overlap(a: Rect, b: Rect) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def place_tags(boxes, sizes, frame: tuple[float, float]) -> list[Rect]:
    """Where each face's caption goes so that no two overlap: above its box, else below it, else
    inside its top, else further up or down, a caption's height at a time; all on the picture.
    boxes: (N, 4) xyxy as drawn; sizes: (N, 2) caption width and height. One rect per face, in
    order; if the picture is too crowded for any free place, the least covered one."""
    fw, fh = frame
    placed: dict[int, Rect] = {}
    order = sorted(range(len(boxes)), key=lambda i: (float(boxes[i][1]), float(boxes[i][0])))
    for i in order:
        x0, y0, _, y1 = (float(v) for v in boxes[i])
        w, h = (float(v) for v in sizes[i])
        x = max(0.0, min(x0, fw - w))
        ys = [y0 - h, y1, y0] + [y for k in range(1, 2 * len(boxes) + 2) for y in (y0 - h - k * h, y1 + k * h)]
        spots = [(x, max(0.0, min(y, fh - h)), w, h) for y in ys]
        covered = [sum(_overlap(spot, r) for r in placed.values()) for spot in spots]
        placed[i] = spots[covered.index(min(covered))]
    return [placed[i] for i in range(len(boxes))]


def face_caption(face, index: int) -> str:
    """'Face 1: Happy 93%' / 'Face 2: maybe happy' / 'Face 3: checking…' / 'Face 4: too far to read'.

    "checking…": the face counts (its second look passed, moodcam.second_look) and waits for its
    first reading: no mood is shown for it before one."""
    if not getattr(face, "readable", True):
        return f"Face {index}: too far to read"
    if face.label is not None:
        name = PRESENTATIONS[face.label].name if face.label in PRESENTATIONS else face.label
        return f"Face {index}: {name} {round(100 * face.probability)}%"
    if face.top_label is not None:
        name = PRESENTATIONS[face.top_label].name if face.top_label in PRESENTATIONS else face.top_label
        return f"Face {index}: maybe {name.lower()}"
    return f"Face {index}: checking…"
