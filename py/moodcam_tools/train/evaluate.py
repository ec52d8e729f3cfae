"""COCO evaluation (pycocotools) of a detector through the app's own post-processing.

Each image is letterboxed as the browser does it, the model's raw outputs are
decoded, suppressed and mapped back to image pixels by
``moodcam.detection.pipeline.FaceDetectorPostprocess`` (the code the app runs),
and the detections are scored against the ground truth with COCOeval. The
summary is printed in the 12-line COCO layout (as pycocotools prints it):

     Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.222
     ...
     Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.514
"""
from __future__ import annotations

import contextlib
import io
import itertools
from typing import Callable, Iterable

import numpy as np

from moodcam.detection.pipeline import FaceDetectorPostprocess
from moodcam.detection.result import Detections

from .augment import letterbox_image, normalise
from .datasets import Sample, read_image
from .model import DetectorConfig

__all__ = ["STAT_KEYS", "Predictor", "coco_evaluate", "format_summary", "evaluate"]

STAT_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
_LINES = [  # (title, kind, iou, area, maxDets), pycocotools' summarize() order
    ("Average Precision", "(AP)", "0.50:0.95", "all", 100), ("Average Precision", "(AP)", "0.50", "all", 100),
    ("Average Precision", "(AP)", "0.75", "all", 100), ("Average Precision", "(AP)", "0.50:0.95", "small", 100),
    ("Average Precision", "(AP)", "0.50:0.95", "medium", 100), ("Average Precision", "(AP)", "0.50:0.95", "large", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "all", 1), ("Average Recall", "(AR)", "0.50:0.95", "all", 10),
    ("Average Recall", "(AR)", "0.50:0.95", "all", 100), ("Average Recall", "(AR)", "0.50:0.95", "small", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "medium", 100), ("Average Recall", "(AR)", "0.50:0.95", "large", 100),
]
MAX_DETS = 100


def format_summary(stats: dict) -> str:
    """The 12 lines pycocotools' COCOeval.summarize() prints, from a stats dict."""
    out = []
    for key, (title, kind, iou, area, dets) in zip(STAT_KEYS, _LINES):
        out.append(" {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}".format(
            title, kind, iou, area, dets, stats[key]))
    return "\n".join(out)


class Predictor:
    """Raw model -> Detections in image pixels, through the app's decoding, NMS and letterbox removal."""

    def __init__(self, raw_fn: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], config: DetectorConfig,
                 min_score: float | None = None, max_detections: int = MAX_DETS):
        self.raw_fn = raw_fn
        self.config = config
        self.post = FaceDetectorPostprocess(config.spec(min_score, max_detections))

    def prepare(self, image: np.ndarray):
        pixels, lb = letterbox_image(image, self.config.input_size)
        return normalise(pixels, self.config.norm_scale, self.config.norm_offset), lb

    def detect_images(self, images: Iterable[np.ndarray], batch: int = 32) -> list[Detections]:
        """Detections per image, in order. ``images`` may be a generator: each one is letterboxed as it
        comes and not kept, so only model-input copies of one batch are held at a time."""
        out: list[Detections] = []
        it = iter(images)
        while True:
            prepared = [self.prepare(im) for im in itertools.islice(it, batch)]
            if not prepared:
                break
            x = np.stack([p[0] for p in prepared])
            reg, cls = self.raw_fn(x)
            for i, (_, lb) in enumerate(prepared):
                out.append(self.post(reg[i], cls[i], lb))
        return out


def keras_raw_fn(model):
    """A fast raw-output function for a Keras model (traced once per batch size)."""
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def run(x):
        reg, cls = model(x, training=False)
        return reg, cls

    def call(x: np.ndarray):
        reg, cls = run(tf.constant(x, tf.float32))
        return reg.numpy(), cls.numpy()

    return call


def coco_evaluate(samples: list[Sample], detections: list[Detections], class_names: list[str], *,
                  printer: Callable[[str], None] | None = print) -> dict:
    """COCO AP/AR of ``detections`` (image pixels, one per sample) against the samples' boxes."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    cat_index = {name: i + 1 for i, name in enumerate(class_names)}
    images: list[dict] = []
    anns: list[dict] = []
    results: list[dict] = []
    for img_id, (s, det) in enumerate(zip(samples, detections), 1):
        images.append({"id": img_id, "width": s.width, "height": s.height, "file_name": str(s.image_path)})
        for b, lab in zip(s.boxes, s.labels):
            w, h = float(b[2] - b[0]), float(b[3] - b[1])
            anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": cat_index[lab],
                         "bbox": [float(b[0]), float(b[1]), w, h], "area": w * h, "iscrowd": 0})
        labels = det.labels if det.labels is not None else np.zeros(len(det), np.int64)
        for b, score, lab in zip(det.boxes, det.scores, labels):
            results.append({"image_id": img_id, "category_id": int(lab) + 1, "score": float(score),
                            "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]})
    stats = dict.fromkeys(STAT_KEYS, 0.0)
    if anns and results:
        gt = COCO()
        gt.dataset = {"images": images, "annotations": anns,
                      "categories": [{"id": i, "name": n} for n, i in cat_index.items()]}
        with contextlib.redirect_stdout(io.StringIO()):     # pycocotools chats on stdout
            gt.createIndex()
            dt = gt.loadRes(results)
            ev = COCOeval(gt, dt, "bbox")
            ev.params.maxDets = [1, 10, MAX_DETS]
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        stats = {k: float(v) for k, v in zip(STAT_KEYS, ev.stats)}
    elif not anns:
        stats = dict.fromkeys(STAT_KEYS, -1.0)               # COCO's "no ground truth" value
    stats["images"] = len(samples)
    stats["objects"] = len(anns)
    stats["detections"] = len(results)
    if printer is not None:
        printer(format_summary(stats))
    return stats


def evaluate(raw_fn, config: DetectorConfig, samples: list[Sample], *, min_score: float = 0.05,
             images: Iterable[np.ndarray] | None = None, printer=print) -> tuple[dict, list[Detections]]:
    """Detect on every sample and COCO-evaluate. Images are decoded from disk one at a time as the
    predictor needs them, unless given (a list, or a generator to keep memory flat)."""
    predictor = Predictor(raw_fn, config, min_score=min_score)
    if images is None:
        images = (read_image(s.image_path) for s in samples)
    dets = predictor.detect_images(images)
    if len(dets) != len(samples):
        raise ValueError(f"{len(dets)} images for {len(samples)} samples")
    return coco_evaluate(samples, dets, list(config.class_names), printer=printer), dets
