"""`build.py train-detector` and `build.py eval-detector`.

    build.py train-detector --data DIR --format voc|yolo|csv [--out runs/NAME] [--name NAME] ...
    build.py eval-detector  --data DIR --format voc|yolo|csv --model runs/NAME [--split all|val|test]
    build.py split-detector-data --data DIR --format voc|yolo|csv --out LISTS_DIR [--seed 0]
    build.py make-tree-set --dest DIR
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

from moodcam.detection.nms import NMS_ALGORITHMS

from ..errors import BuildError
from .datasets import DEFAULT_IMAGE_CACHE_MB

if TYPE_CHECKING:
    from .model import NmsAlgorithm

TRAIN_EPILOG = """\
dataset layouts (DIR is --data):
  voc   LabelImg XML files anywhere under DIR; each image next to its XML, or in
        DIR, DIR/JPEGImages or DIR/images (seed 003's format)
  yolo  DIR/images/* + DIR/labels/*.txt ("class cx cy w h", normalised) and
        DIR/classes.txt (one name a line) or DIR/data.yaml names (a list or an
        {id: name} mapping) (seed 002)
  csv   DIR/*.csv with the header filename,width,height,class,xmin,ymin,xmax,ymax,source
        (',' between fields; ';' or tab when the header holds no comma, as Excel writes);
        each image next to the CSV (DIR or DIR/images) or, failing that, in the images
        folder beside DIR (DIR/../images: data/*.csv + images/ works with --data set/data)
  A split is used as given (DIR/train + DIR/val|valid|test for any format, images/train +
  images/val for YOLO, train*.csv + val*.csv|test*.csv); otherwise a seeded 80/20 split.
  --splits LISTS_DIR instead trains on LISTS_DIR/train.txt and validates (early stopping,
  best epoch) on LISTS_DIR/val.txt; LISTS_DIR/test.txt is never used for training or
  validation (make the lists with build.py split-detector-data; score the test list with
  eval-detector --splits LISTS_DIR --split test).

bad data (annotation without image, unreadable image or annotation, box outside the
image, zero-area box, unknown class, image path outside the dataset folder) is reported
per file and skipped; training stops only when no valid image is left. Text files that
are not UTF-8 (a BOM is fine) are read as cp1252, and the report notes each one.

examples:
  python3 build.py train-detector --data data/kangaroo --format voc --name kangaroo
  python3 build.py train-detector --data data/shapes --format yolo --epochs 80 \\
      --install-into models
  python3 build.py train-detector --data data/shapes --format yolo --out runs/shapes --resume
"""

EVAL_EPILOG = """\
The model is a training run folder (config.json + best.weights.h5). Detections go
through the app's own letterbox, decoding and the run's NMS (--nms, --nms-iou to try
another), then pycocotools scores them;
the 12-line COCO summary is printed and, with --json, written as a file.

examples:
  python3 build.py eval-detector --data data/other_shapes --format csv --model runs/shapes
  python3 build.py eval-detector --data ../shared/datasets/raccoon/data --format csv \\
      --model runs/raccoon --splits bench/splits/raccoon --split test
"""

SPLIT_EPILOG = """\
Writes LISTS_DIR/train.txt, val.txt and test.txt: one image a line, its path relative to
--data ('#' lines are comments). Split by file, never by box, with a fixed seed: the same
data and seed always give the same lists. When the data carries its own split (see
train-detector --help), its held-out part becomes the test list, unchanged, and only its
training part is split into train and validation (--val-fraction of it); otherwise
--test-fraction of all images is drawn for test first, then --val-fraction of the rest.

example (the lists in bench/splits/raccoon: the author's 40 test photos, 128 train / 32 val):
  python3 build.py split-detector-data --data ../shared/datasets/raccoon/data --format csv \\
      --out bench/splits/raccoon --seed 0 --val-fraction 0.2
"""


INITS = ("none", "mediapipe", "objectron")   # --init names; anything else is a .tflite path


def _tf_env() -> None:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # TF 2.19 segfaults without it (NOTES.md)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _classes(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise BuildError("--classes is empty", expected="comma-separated class names, e.g. circle,square")
    if len(set(names)) != len(names):
        raise BuildError(f"--classes repeats a name: {names}")
    return names


def _data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR", help="dataset folder (layouts below)")
    parser.add_argument("--format", required=True, choices=("voc", "yolo", "csv"),
                        help="annotation format of --data")
    parser.add_argument("--classes", default=None, metavar="A,B,...",
                        help="fixed class list in this order; objects of other classes are reported and skipped "
                             "(default: every class found, sorted; YOLO: classes.txt)")


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="build.py train-detector", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train an SSD-style detector (TensorFlow/Keras; CPU, or GPU when present): by default a MobileNetV2 "
                    "trunk pretrained on Open Images at 256 px, or BlazeFace (--init mediapipe / none); "
                    "evaluate it with COCO AP/AR and export it as a TF.js graph model with a manifest entry.",
        epilog=TRAIN_EPILOG)
    _data_args(p)
    g = p.add_argument_group("run")
    g.add_argument("--name", default=None, help="model name: folder under models/ and ?model=<name> in the app "
                                                "(default: the --data folder name); never a built-in model's "
                                                "name (blazeface_short_range, ...)")
    g.add_argument("--out", default=None, metavar="DIR",
                   help="run folder for checkpoints, logs and the export (default: runs/<name>)")
    g.add_argument("--resume", action="store_true", help="continue the training saved in --out")
    g.add_argument("--seed", type=int, default=0, help="seed for the split, the initial weights and the "
                                                       "augmentations (default %(default)s)")
    g.add_argument("--val-fraction", type=float, default=0.2,
                   help="share held out for validation when the data has no split (default %(default)s)")
    g.add_argument("--splits", default=None, metavar="LISTS_DIR",
                   help="train on LISTS_DIR/train.txt, validate on LISTS_DIR/val.txt and never touch "
                        "LISTS_DIR/test.txt (lists made by build.py split-detector-data); overrides the "
                        "data's own split and --val-fraction")
    g = p.add_argument_group("model")
    g.add_argument("--input-size", type=int, default=256, choices=(128, 256),
                   help="network input (default %(default)s; 128 is about 4x cheaper per frame and scored lower "
                        "on validation: docs/custom-detectors.md)")
    g.add_argument("--init", default="objectron", metavar="objectron|mediapipe|none|FILE.tflite",
                   help="objectron: a MobileNetV2 backbone pretrained on general objects (MediaPipe's Objectron "
                        "SSD, Open Images; the pinned npm @mediapipe/objectron tarball, fetched once into the "
                        "download cache; docs/pretrained-start.md), about 1.2x (128 px) or 6.6x (256 px) the "
                        "BlazeFace backbone's multiply-adds; mediapipe: the BlazeFace backbone of MediaPipe's "
                        "face detector (the pinned mediapipe wheel), or of a given face_detection_short_range.tflite; "
                        "none: BlazeFace from scratch (needs many more epochs) (default %(default)s, chosen on "
                        "validation: docs/custom-detectors.md)")
    g.add_argument("--head-strides", default="auto", choices=("auto", "8,16", "16,32"),
                   help="strides of the two feature maps the heads sit on. 16,32 at 256 px is the BlazeFace "
                        "layout (896 anchors); 8,16 at 256 px (--init objectron only) puts the first head on the "
                        "trunk's 32x32 map (3584 anchors; cheaper trunk, cut at stride 16), for small objects. "
                        "auto: 8,16 when --init objectron at 256 px and the training boxes' median side is under "
                        "64 px, the layout's own otherwise (always 8,16 at 128 px) (default %(default)s)")
    g.add_argument("--anchors", default="fit", choices=("fit", "blazeface"),
                   help="fit: anchors with real sizes whose aspect ratios (k-means on the training boxes' shapes, "
                        "IoU distance; more than one only where it raises the mean IoU) and scales are chosen "
                        "from the data, SSD box coding, written into the manifest entry; blazeface: MediaPipe's "
                        "square fixed-size anchors (default %(default)s)")
    g.add_argument("--max-aspect-ratios", type=int, default=3, metavar="K",
                   help="with --anchors fit: at most this many aspect ratios per cell (default %(default)s)")
    g.add_argument("--loss", default="focal", choices=("focal", "hnm"),
                   help="classification loss: focal, or BCE with 3:1 hard negative mining (default focal)")
    g.add_argument("--box-loss", default="smooth_l1+giou", choices=("smooth_l1", "giou", "smooth_l1+giou"),
                   help="box loss: smooth L1 on the encoded box, GIoU of the decoded box, or both "
                        "(default %(default)s)")
    g.add_argument("--min-score", type=float, default=0.5,
                   help="score threshold the app uses for this model (manifest; default %(default)s)")
    g.add_argument("--nms", default="auto", choices=("auto", *NMS_ALGORITHMS),
                   help="non-maximum suppression in validation, evaluation and the app (manifest): weighted "
                        "(MediaPipe's blending: each cluster of overlapping boxes becomes their score-weighted "
                        "mean), hard (keep the best box, drop the rest); auto: weighted for one class, hard for "
                        "several (a blended box would mix labels) (default %(default)s)")
    g.add_argument("--nms-iou", type=float, default=0.6,
                   help="IoU above which NMS joins (weighted) or drops (hard) a box (manifest; default %(default)s, "
                        "as the TF Object Detection API's SSD configs; MediaPipe's face detector uses 0.3)")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=60, help="maximum epochs (default %(default)s)")
    g.add_argument("--batch-size", type=int, default=16, help="default %(default)s")
    g.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (Adam, warm-up then cosine; "
                                                          "default %(default)s)")
    g.add_argument("--patience", type=int, default=20,
                   help="early stopping: epochs without a better validation AP (default %(default)s)")
    g.add_argument("--monitor", default="AP", choices=("AP", "AP50", "AP75"),
                   help="validation metric for early stopping and the best checkpoint (default AP@[.5:.95])")
    g.add_argument("--head-epochs", type=int, default=0, metavar="N",
                   help="train only the layers --init did not fill (the heads) for the first N epochs, then the "
                        "whole network, as the TF Object Detection API fine-tunes a checkpoint (default "
                        "%(default)s: everything from the first step)")
    g.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this "
                                                                     "many minutes")
    g.add_argument("--no-flip", action="store_true", help="no horizontal flips (for classes that are mirror "
                                                          "images of each other)")
    g.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    g.add_argument("--augment", default="basic", choices=("basic", "strong"), dest="augment_strength",
                   help="basic: flips, brightness/contrast, border crops, mild affine; strong: flips, colour "
                        "jitter, scale jitter 0.5-1.5x with more translation (default %(default)s)")
    g.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="validate, keep and export an exponential moving average of the weights with this decay "
                        "(ramped in as min(DECAY, (1+step)/(10+step))); 0 turns it off (default %(default)s)")
    g.add_argument("--image-cache-mb", type=float, default=DEFAULT_IMAGE_CACHE_MB, metavar="MB",
                   help="decoded images kept in memory between uses, most recent first; beyond it images are "
                        "re-read from disk (default %(default)s MB; 12 MP photos take 36 MB each)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("export")
    g.add_argument("--no-export", action="store_true", help="train and evaluate only")
    g.add_argument("--export-dir", default=None, metavar="DIR",
                   help="where to write <name>/ and manifest.json (default: <out>/export)")
    g.add_argument("--install-into", default=None, metavar="MODELS_DIR",
                   help="also export into this models folder (e.g. models), merging the entry into its "
                        "manifest.json so the app can load it with ?model=<name>")
    g.add_argument("--overwrite", action="store_true",
                   help="with --install-into: replace a model of the same name already installed there (such as "
                        "the shipped shapes_demo); built-in models' names are never accepted")
    g.add_argument("--float16", action="store_true", help="store the TF.js weights as float16 (half the size)")
    g.add_argument("--licence", default="unspecified: the licence of your training data",
                   help="licence recorded in the manifest and card")
    return p


def eval_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="build.py eval-detector", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="COCO AP/AR of a trained detector on any annotated folder.", epilog=EVAL_EPILOG)
    _data_args(p)
    p.add_argument("--model", required=True, metavar="RUN_DIR", help="training run folder (--out of train-detector)")
    p.add_argument("--split", default="all", choices=("all", "val", "train", "test"),
                   help="evaluate on every image (default) or only on the validation part of a seeded or given split; "
                        "with --splits: the images of that list (train, val or test)")
    p.add_argument("--splits", default=None, metavar="LISTS_DIR",
                   help="split lists (train.txt, val.txt, test.txt) that --split picks from")
    p.add_argument("--seed", type=int, default=0, help="split seed with --split val (default %(default)s)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="with --split val (default %(default)s)")
    p.add_argument("--min-score", type=float, default=0.05,
                   help="lowest detection score kept for AP (default %(default)s)")
    p.add_argument("--nms", default=None, choices=NMS_ALGORITHMS,
                   help="NMS to evaluate with instead of the run's own (config.json)")
    p.add_argument("--nms-iou", type=float, default=None, help="NMS IoU threshold instead of the run's own")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON")
    return p


def _print_report(train_set) -> None:
    print(train_set.report.render(), flush=True)


def fitted_config(config, train_set, *, max_ratios: int, seed: int, log=print):
    """``config`` with SSD box coding and anchors fitted to the training boxes (see anchor_fit)."""
    import dataclasses

    from .anchor_fit import box_shapes, fit_anchors

    if max_ratios < 1:
        raise BuildError(f"--max-aspect-ratios must be at least 1, got {max_ratios}")
    fit = fit_anchors(box_shapes(train_set.samples), config.anchor_options, max_ratios=max_ratios, seed=seed)
    log(f"[train] {fit.describe()}", flush=True)
    return dataclasses.replace(config, box_coding="ssd", aspect_ratios=fit.aspect_ratios, min_scale=fit.min_scale,
                               max_scale=fit.max_scale)


def run_train(argv: list[str] | None) -> int:
    args = train_parser().parse_args(argv)
    _tf_env()
    from .datasets import load_split, require_samples
    from .model import DetectorConfig
    from .train import TrainSettings, train

    data = Path(args.data).resolve()
    from .export import check_install_target, check_name
    name = check_name(args.name or data.name.lower().replace(" ", "_"))
    if args.install_into and not args.no_export:
        check_install_target(Path(args.install_into), name, overwrite=args.overwrite)
    out = Path(args.out) if args.out else Path("runs") / name
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, loss=args.loss,
                             box_loss=args.box_loss,
                             patience=args.patience, monitor=args.monitor, seed=args.seed, init=args.init,
                             flip=not args.no_flip, augment=not args.no_augment,
                             augment_strength=args.augment_strength, ema=args.ema,
                             head_epochs=args.head_epochs,
                             max_minutes=args.max_minutes,
                             quiet=args.quiet, image_cache_mb=args.image_cache_mb)
    if args.init not in INITS and not Path(args.init).is_file():
        raise BuildError(f"--init {args.init}: no such file", expected="none, mediapipe, objectron or a .tflite path")
    if args.splits:
        train_set, val_set, how = _listed_split(data, args.format, _classes(args.classes), Path(args.splits))
    else:
        train_set, val_set, how = load_split(data, args.format, _classes(args.classes),
                                             val_fraction=args.val_fraction, seed=args.seed)
    _print_report(train_set)
    require_samples(train_set, "training", data)
    require_samples(val_set, "validation", data)
    print(f"[train] {how}", flush=True)
    backbone = "mobilenetv2_oidv4" if args.init == "objectron" else "blazeface"
    if args.head_strides == "auto":
        from .anchor_fit import box_shapes, choose_head_strides
        head_strides, why = choose_head_strides(box_shapes(train_set.samples), args.input_size, backbone)
        print(f"[train] head strides {','.join(map(str, head_strides)) if head_strides else 'of the layout'} "
              f"(auto: {why})", flush=True)
    else:
        first, second = (int(v) for v in args.head_strides.split(","))
        head_strides = (first, second)
    config = DetectorConfig(tuple(train_set.class_names), input_size=args.input_size,
                            min_score_thresh=args.min_score, nms_iou=args.nms_iou,
                            nms=nms_algorithm(args.nms, len(train_set.class_names)),
                            backbone=backbone, head_strides=head_strides)
    if args.anchors == "fit":
        config = fitted_config(config, train_set, max_ratios=args.max_aspect_ratios, seed=args.seed)
    result = train(train_set, val_set, config, settings, out, resume=args.resume)
    if args.no_export:
        return 0
    from .export import export_detector
    from .train import RunFiles

    training = {"data_format": args.format, "train_images": result["train_images"],
                "val_images": result["val_images"], "loss": args.loss, "box_loss": args.box_loss,
                "anchors": args.anchors, "init": args.init, "splits": args.splits,
                "epochs_run": result["epochs_run"], "best_epoch": result["best_epoch"],
                "train_seconds": round(result["train_seconds"], 1), "seed": args.seed, "coco": result["stats"]}
    targets = [Path(args.export_dir) if args.export_dir else out / "export"]
    if args.install_into:
        targets.append(Path(args.install_into))
    for target in targets:
        export_detector(result["model"], config, target, name, float16=args.float16, licence=args.licence,
                        training=training, weights_file=RunFiles(out).best_weights)
    return 0


def _listed_split(data: Path, fmt: str, classes: list[str] | None, lists: Path):
    """(train, val, how) from the split lists: the whole folder is loaded once, then the train and val
    lists pick their images; the test list is read only to refuse an image that is also in another."""
    from .datasets import load_dataset
    from .splits import select

    if not lists.is_dir():
        raise BuildError(f"--splits {lists}: no such folder",
                         fix="make the lists with build.py split-detector-data --out " + str(lists))
    chosen, how = select(load_dataset(data, fmt, classes), data, lists, ["train", "val"])
    return chosen["train"], chosen["val"], how


def nms_algorithm(choice: str, num_classes: int) -> NmsAlgorithm:
    """--nms auto: MediaPipe's weighted blending for one class; hard NMS for several, where blending
    the boxes of a cluster would also blend boxes of different labels."""
    if choice == "auto":
        return "weighted" if num_classes == 1 else "hard"
    if choice == "weighted":
        return "weighted"
    if choice == "hard":
        return "hard"
    raise BuildError(f"unknown NMS {choice!r}", expected=" or ".join(("auto", *NMS_ALGORITHMS)))


def run_eval(argv: list[str] | None) -> int:
    args = eval_parser().parse_args(argv)
    _tf_env()
    from .datasets import load_dataset, load_split, require_samples
    from .evaluate import evaluate, keras_raw_fn
    from .train import load_trained

    data = Path(args.data).resolve()
    model, config = load_trained(Path(args.model))
    config = dataclasses.replace(config, nms=args.nms or config.nms,
                                 nms_iou=config.nms_iou if args.nms_iou is None else args.nms_iou)
    print(f"[eval] {config.nms} NMS at IoU {config.nms_iou}", flush=True)
    classes = _classes(args.classes) or list(config.class_names)
    if args.splits:
        if args.split == "all":
            raise BuildError("--splits needs --split train, val or test", fix="add --split test to score the "
                                                                             "held-out test list")
        from .splits import select

        whole = load_dataset(data, args.format, classes)
        chosen, how = select(whole, data, Path(args.splits), [args.split])
        print(f"[eval] {how}")
        dataset, report = chosen[args.split], whole.report
    elif args.split in ("train", "test"):
        raise BuildError(f"--split {args.split} needs --splits LISTS_DIR",
                         fix="make the lists with build.py split-detector-data, or use --split all or val")
    elif args.split == "val":
        train_part, dataset, how = load_split(data, args.format, classes, val_fraction=args.val_fraction,
                                              seed=args.seed)
        print(f"[eval] {how}")
        report = train_part.report          # the report of the whole load travels with the train part
    else:
        dataset = load_dataset(data, args.format, classes)
        report = dataset.report
    print(report.render(), flush=True)
    require_samples(dataset, "evaluation", data)
    t0 = time.monotonic()
    stats, _dets = evaluate(keras_raw_fn(model), config, dataset.samples, min_score=args.min_score)
    print(f"[eval] {len(dataset.samples)} images, {stats['objects']} objects, {stats['detections']} detections "
          f"in {time.monotonic() - t0:.1f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(stats, indent=2) + "\n")
    return 0


def split_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="build.py split-detector-data", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Make train / validation / test lists of a detection dataset, by file and with a fixed seed, "
                    "for train-detector --splits and eval-detector --splits.", epilog=SPLIT_EPILOG)
    _data_args(p)
    p.add_argument("--out", required=True, metavar="LISTS_DIR", help="folder for train.txt, val.txt and test.txt")
    p.add_argument("--seed", type=int, default=0, help="shuffle seed (default %(default)s)")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="share of the training images (all but test) put in val.txt (default %(default)s)")
    p.add_argument("--test-fraction", type=float, default=0.2,
                   help="share of all images put in test.txt when the data has no split of its own "
                        "(default %(default)s)")
    return p


def run_split(argv: list[str] | None) -> int:
    args = split_parser().parse_args(argv)
    from .datasets import has_given_split, load_dataset, load_split
    from .splits import image_key, three_way_split, write_lists

    data = Path(args.data).resolve()
    classes = _classes(args.classes)
    if has_given_split(data, args.format):
        train_part, held_out, _how = load_split(data, args.format, classes)
        report, keys = train_part.report, [image_key(s.image_path, data) for s in train_part.samples]
        given_test = [image_key(s.image_path, data) for s in held_out.samples]
        source = "the data's own held-out part is the test list"
    else:
        whole = load_dataset(data, args.format, classes)
        report, keys, given_test = whole.report, [image_key(s.image_path, data) for s in whole.samples], None
        source = f"test fraction {args.test_fraction}"
    print(report.render(), flush=True)
    lists = three_way_split(keys, val_fraction=args.val_fraction, test_fraction=args.test_fraction,
                            seed=args.seed, given_test=given_test)
    header = (f"made by: build.py split-detector-data --data {args.data} --format {args.format} --seed {args.seed} "
              f"--val-fraction {args.val_fraction} --test-fraction {args.test_fraction}\n"
              f"{source}; paths relative to --data; one image a line")
    for path in write_lists(lists, Path(args.out), header):
        print(f"[split] wrote {path}")
    print(f"[split] {len(lists.train)} train / {len(lists.val)} val / {len(lists.test)} test images ({source})")
    return 0


def _reported(run: Callable[[list[str] | None], int], argv: list[str] | None) -> int:
    """Run a command; a BuildError becomes its rendered message on stderr and exit status 1."""
    try:
        return run(argv)
    except BuildError as error:
        print(error.render(), file=sys.stderr)
        return 1


def tree_set_parser() -> argparse.ArgumentParser:
    from .tree_set import DEEPFOREST, MIN_VISIBLE, TILE

    p = argparse.ArgumentParser(
        prog="build.py make-tree-set", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=f"Build a one-class VOC detection set of tree crowns seen from the air: the annotated NEON "
                    f"orthophotos that the PyPI wheel {DEEPFOREST.requirement} ({DEEPFOREST.licence}) ships, "
                    f"fetched once into the download cache and checked by sha256, cut into {TILE}x{TILE} tiles "
                    f"that never overlap. A crown cut by a tile's edge is kept, clipped, when at least "
                    f"{MIN_VISIBLE:.0%} of it is inside. The set checks the trainer's defaults on objects of "
                    "another kind than the raccoons (docs/custom-detectors.md).",
        epilog="example:\n  python3 build.py make-tree-set --dest data/trees\n"
               "  python3 build.py train-detector --data data/trees --format voc --splits bench/splits/trees")
    p.add_argument("--dest", required=True, metavar="DIR", help="folder to write (replaced whole when it exists)")
    p.add_argument("--offline", action="store_true", help="use only the download cache; fail if the wheel is "
                                                           "not there")
    return p


def run_tree_set(argv: list[str] | None) -> int:
    args = tree_set_parser().parse_args(argv)
    from ..paths import downloads_dir
    from .tree_set import build_tree_set

    summary = build_tree_set(Path(args.dest), downloads_dir(), download=not args.offline)
    for stem, part in summary["photos"].items():
        print(f"[trees] {stem}: {part['size'][0]}x{part['size'][1]} px, {part['crowns_annotated']} crowns "
              f"-> {part['tiles']} tiles holding {part['crowns_in_tiles']}")
    print(f"[trees] wrote {summary['tiles']} tiles, {summary['crowns']} crowns, into {args.dest}")
    return 0


def split_main(argv: list[str] | None = None) -> int:
    return _reported(run_split, argv)


def train_main(argv: list[str] | None = None) -> int:
    return _reported(run_train, argv)


def eval_main(argv: list[str] | None = None) -> int:
    return _reported(run_eval, argv)


def tree_set_main(argv: list[str] | None = None) -> int:
    return _reported(run_tree_set, argv)


if __name__ == "__main__":
    sys.exit(train_main())
