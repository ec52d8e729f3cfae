"""Augmentation (albumentations, boxes kept with the pixels) and the letterbox the app uses.

BlazeFace training's usual recipe: horizontal flip, random brightness/contrast, random crop from
the borders, a mild affine transform; then letterbox to the model input keeping
the aspect ratio, and normalise. The letterbox is the app's own geometry
(``moodcam.detection.letterbox.Letterbox.fit(..., round_padding=True)``, bilinear
resize with half-pixel centres, black padding), so training sees exactly what the
browser feeds the model.
"""
from __future__ import annotations

import numpy as np

from moodcam.detection.letterbox import Letterbox

__all__ = ["build_augmenter", "augment", "letterbox_image", "normalise", "STRENGTHS"]

# basic: the recipe above. strong: scale jitter 0.5..1.5 (objects of every size from few photos; zoom-in
# crops the borders), more translation, colour jitter (hue, saturation) and an occasional grey or blurred image.
STRENGTHS = ("basic", "strong")


def build_augmenter(seed: int = 0, *, flip: bool = True, strength: str = "basic"):
    """The training pipeline; boxes in pascal_voc (xyxy pixels) with a ``labels`` field."""
    import albumentations as A
    import cv2

    if strength not in STRENGTHS:
        raise ValueError(f"augmentation strength must be one of {STRENGTHS}, got {strength!r}")
    transforms = []
    if flip:
        transforms.append(A.HorizontalFlip(p=0.5))
    if strength == "basic":
        transforms += [
            A.RandomBrightnessContrast(brightness_limit=0.25, contrast_limit=0.25, p=0.7),
            A.RandomCropFromBorders(crop_left=0.15, crop_right=0.15, crop_top=0.15, crop_bottom=0.15, p=0.4),
            A.Affine(scale=(0.85, 1.15), translate_percent=(-0.08, 0.08), rotate=(-5, 5),
                     border_mode=cv2.BORDER_CONSTANT, fill=114, p=0.5),
        ]
    else:
        transforms += [
            A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.4, hue=0.03, p=0.8),
            A.ToGray(p=0.05),
            A.GaussianBlur(blur_limit=(3, 5), p=0.1),
            A.Affine(scale=(0.5, 1.5), translate_percent=(-0.2, 0.2), rotate=(-5, 5),
                     border_mode=cv2.BORDER_CONSTANT, fill=114, p=0.8),
        ]
    return A.Compose(
        transforms,
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.4, clip=True,
                                 filter_invalid_bboxes=True),
        seed=seed,
    )


def augment(augmenter, image: np.ndarray, boxes: np.ndarray, class_ids: np.ndarray, seed: int | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One augmented (image, boxes (K, 4) xyxy px, class ids (K,)); ``seed`` makes this call reproducible."""
    if seed is not None:
        augmenter.set_random_seed(int(seed) % (2**32))
    out = augmenter(image=image, bboxes=np.asarray(boxes, np.float32).reshape(-1, 4),
                    labels=np.asarray(class_ids, np.int64))
    b = np.asarray(out["bboxes"], np.float32).reshape(-1, 4)
    return out["image"], b, np.asarray(out["labels"], np.int64).reshape(-1)


def normalise(pixels: np.ndarray, scale: float, offset: float) -> np.ndarray:
    return pixels.astype(np.float32) * np.float32(scale) + np.float32(offset)


def letterbox_image(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """(H, W, 3) uint8 -> ((size, size, 3) float32 pixels 0..255, the Letterbox) as the app draws it."""
    import cv2

    h, w = image.shape[:2]
    lb = Letterbox.fit(w, h, size, size, round_padding=True)
    px, py = int(lb.padding[0]), int(lb.padding[1])
    dw, dh = size - 2 * px, size - 2 * py
    resized = cv2.resize(image, (dw, dh), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((size, size, 3), np.float32)
    out[py:py + dh, px:px + dw] = resized
    return out, lb


def boxes_to_model(lb: Letterbox, boxes_px: np.ndarray) -> np.ndarray:
    """Source-pixel xyxy boxes -> normalised model-input xyxy boxes (what decode() returns)."""
    b = np.asarray(boxes_px, np.float64).reshape(-1, 4)
    t = lb.boxes_to_target(b)
    return (t / np.asarray([*lb.target_size, *lb.target_size], np.float64)).astype(np.float32)
