"""The training loop: augmented batches, multibox loss, validation (loss + COCO AP) every epoch,
early stopping, checkpoints, resume, fixed seeds.

A run folder holds everything about one training:

    config.json              DetectorConfig (classes, input size, normalisation, thresholds)
    settings.json            the training settings and where the data came from
    data_report.txt          the bad-data report of the load
    checkpoints/last.weights.h5, optimizer.npz, state.json   (for --resume; written every epoch)
    checkpoints/ema.weights.h5   the moving average of the weights (with ``ema`` > 0)
    best.weights.h5          the weights of the best validation epoch (the moving average when on)
    history.json             per-epoch losses and validation AP
    eval.json                the final COCO figures of best.weights.h5 on the validation split

Memory: images are decoded on demand; one :class:`~.datasets.ImageCache` shared by
the training and validation batches keeps the most recently used within
``TrainSettings.image_cache_mb`` (default 1024 MB, ``--image-cache-mb``), so a big set
of large photos is re-read from disk each epoch instead of held decoded.

Weight averaging: with ``TrainSettings.ema`` > 0 an exponential moving average of every
weight (batch-norm statistics included) is kept beside the trained weights, updated after
each step with the decay ``min(ema, (1 + step) / (10 + step))`` (the ramp of TensorFlow's
``ExponentialMovingAverage``: short runs average over their recent part only). Validation,
the best checkpoint and so the export use the average: on a small set the raw weights'
validation AP jumps by several points from one epoch to the next, and the average is the
steadier, usually better, model.

Determinism: ``keras.utils.set_random_seed(seed)`` fixes the initial weights, and
each sample's augmentation is seeded from (seed, epoch, sample index), so a
resumed run sees the same images it would have seen without the interruption.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, TypedDict

import numpy as np

from ..errors import BuildError
from .augment import augment, boxes_to_model, build_augmenter, letterbox_image, normalise
from .datasets import DEFAULT_IMAGE_CACHE_MB, Dataset, ImageCache
from .evaluate import STAT_KEYS, coco_evaluate, format_summary
from .loss import BOX_LOSSES, LOSSES, MultiboxLoss
from .model import DetectorConfig, build_model
from .targets import AnchorMatcher

__all__ = ["TrainSettings", "train", "load_trained", "RunFiles"]

MONITORS = ("AP", "AP50", "AP75")


class _ResumeState(TypedDict):
    """checkpoints/state.json: where training stands after the last finished epoch (-1: none yet)."""
    epoch: int
    best: float
    best_epoch: int
    bad_epochs: int
    seconds: float
    pretrained_layers: list[str]    # layers the --init weights filled (held still for --head-epochs)


@dataclasses.dataclass
class TrainSettings:
    epochs: int = 60
    batch_size: int = 16
    learning_rate: float = 1e-3
    loss: str = "focal"
    box_loss: str = "smooth_l1+giou"   # one of loss.BOX_LOSSES
    patience: int = 20
    monitor: str = "AP"
    seed: int = 0
    init: str = "none"              # "none" | "mediapipe" | "objectron" | path to a .tflite
    flip: bool = True
    augment: bool = True
    augment_strength: str = "basic"  # augment.STRENGTHS
    ema: float = 0.0                # weight moving-average decay; 0: validate and export the raw weights
    head_epochs: int = 0            # epochs that train only what --init did not fill, before the whole network
    max_minutes: float | None = None
    eval_min_score: float = 0.05
    quiet: bool = False
    image_cache_mb: float = DEFAULT_IMAGE_CACHE_MB   # decoded images kept between uses (see ImageCache)

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise BuildError(f"unknown loss {self.loss!r}", expected=" or ".join(LOSSES))
        if self.box_loss not in BOX_LOSSES:
            raise BuildError(f"unknown box loss {self.box_loss!r}", expected=" or ".join(BOX_LOSSES))
        if self.monitor not in MONITORS:
            raise BuildError(f"unknown metric to monitor {self.monitor!r}", expected=" or ".join(MONITORS))
        if not 0.0 <= self.ema < 1.0:
            raise BuildError(f"the weight-average decay must be in [0, 1), got {self.ema}",
                             fix="pass e.g. --ema 0.99, or --ema 0 to turn the average off")
        if self.epochs < 1 or self.batch_size < 1:
            raise BuildError("epochs and batch size must be at least 1")
        if not 0 <= self.head_epochs < self.epochs:
            raise BuildError(f"--head-epochs {self.head_epochs} must be at least 0 and fewer than --epochs "
                             f"{self.epochs}", fix="pass e.g. --head-epochs 5, or 0 to train everything from the start")
        if self.head_epochs and self.init == "none":
            raise BuildError("--head-epochs needs a pretrained start: with --init none nothing is pretrained",
                             fix="add --init objectron (or mediapipe), or drop --head-epochs")
        if not self.image_cache_mb >= 0:
            raise BuildError(f"the image cache size must be 0 MB or more, got {self.image_cache_mb}",
                             fix="pass e.g. --image-cache-mb 1024 (0: decode every image at each use)")

    def image_cache(self) -> ImageCache:
        return ImageCache(int(self.image_cache_mb * 2**20))


@dataclasses.dataclass(frozen=True)
class RunFiles:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def settings(self) -> Path:
        return self.root / "settings.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def last_weights(self) -> Path:
        return self.checkpoints / "last.weights.h5"

    @property
    def ema_weights(self) -> Path:
        return self.checkpoints / "ema.weights.h5"

    @property
    def optimizer(self) -> Path:
        return self.checkpoints / "optimizer.npz"

    @property
    def state(self) -> Path:
        return self.checkpoints / "state.json"

    @property
    def best_weights(self) -> Path:
        return self.root / "best.weights.h5"

    @property
    def history(self) -> Path:
        return self.root / "history.json"

    @property
    def eval(self) -> Path:
        return self.root / "eval.json"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _save_weights(model, path: Path) -> None:
    import warnings

    tmp = path.with_name("tmp-" + path.name)
    with warnings.catch_warnings():
        # Keras 3.15 + numpy 2: one DeprecationWarning per variable (__array__ without copy=).
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save_weights(str(tmp))
    os.replace(tmp, path)


class BatchMaker:
    """(x [B, S, S, 3], reg [B, N, 5], cls [B, N, C+1]) batches, augmented and seeded per sample."""

    def __init__(self, dataset: Dataset, config: DetectorConfig, matcher: AnchorMatcher, settings: TrainSettings,
                 *, train: bool, images: ImageCache | None = None):
        self.samples = dataset.samples
        self.config = config
        self.matcher = matcher
        self.settings = settings
        self.train = train
        self.images = images if images is not None else settings.image_cache()
        index = {n: i for i, n in enumerate(config.class_names)}
        self.class_ids = [np.asarray([index[lab] for lab in s.labels], np.int64) for s in self.samples]
        self.augmenter = None
        if train and settings.augment:
            self.augmenter = build_augmenter(settings.seed, flip=settings.flip, strength=settings.augment_strength)

    def steps(self) -> int:
        n = len(self.samples)
        return max(1, n // self.settings.batch_size) if self.train else -(-n // self.settings.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        idx = np.arange(len(self.samples))
        if self.train:
            np.random.default_rng([self.settings.seed, epoch]).shuffle(idx)
        return idx

    def image(self, i: int) -> np.ndarray:
        return self.images.get(self.samples[i].image_path)

    def item(self, i: int, epoch: int):
        image, boxes, ids = self.image(i), self.samples[i].boxes, self.class_ids[i]
        if self.augmenter is not None:
            seed = (self.settings.seed * 1_000_003 + epoch * 100_003 + i) % (2**31)
            image, boxes, ids = augment(self.augmenter, image, boxes, ids, seed=seed)
        pixels, lb = letterbox_image(image, self.config.input_size)
        x = normalise(pixels, self.config.norm_scale, self.config.norm_offset)
        reg, cls = self.matcher.encode(boxes_to_model(lb, boxes), ids)
        return x, reg, cls, lb

    def batch(self, indices, epoch: int):
        items = [self.item(int(i), epoch) for i in indices]
        return (np.stack([t[0] for t in items]), np.stack([t[1] for t in items]), np.stack([t[2] for t in items]),
                [t[3] for t in items])

    def epoch_batches(self, epoch: int):
        order = self.order(epoch)
        bs = self.settings.batch_size
        for step in range(self.steps()):
            yield order[step * bs:(step + 1) * bs]


def _prefetch(maker: BatchMaker, epoch: int):
    """Batches prepared one ahead in a worker thread (cv2/numpy release the GIL)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = None
        for indices in maker.epoch_batches(epoch):
            future = pool.submit(maker.batch, indices, epoch)
            if pending is not None:
                yield pending.result()
            pending = future
        if pending is not None:
            yield pending.result()


def _optimizer_state(optimizer) -> dict[str, np.ndarray]:
    return {f"v{i:04d}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)}


def _load_optimizer_state(optimizer, path: Path) -> None:
    data = np.load(path)
    variables = optimizer.variables
    if len(data.files) != len(variables):
        raise BuildError(f"{path} holds {len(data.files)} optimizer values, this model needs {len(variables)}",
                         fix="start afresh without --resume (or delete the checkpoints folder)")
    for i, v in enumerate(variables):
        value = data[f"v{i:04d}"]
        if tuple(value.shape) != tuple(v.shape):
            raise BuildError(f"{path}: optimizer value {i} has shape {value.shape}, expected {tuple(v.shape)}",
                             fix="start afresh without --resume")
        v.assign(value)


def _log(message: str) -> None:
    print(f"[train] {message}", flush=True)


def train(train_set: Dataset, val_set: Dataset, config: DetectorConfig, settings: TrainSettings, run_dir: Path,
          *, resume: bool = False, log: Callable[[str], None] = _log) -> dict:
    """Train, validate every epoch, keep the best weights; returns the final COCO stats and timings."""
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import cv2
    import keras
    import tensorflow as tf
    from tqdm import tqdm

    cv2.setNumThreads(1)
    files = RunFiles(Path(run_dir))
    files.checkpoints.mkdir(parents=True, exist_ok=True)
    if resume:
        if not files.state.is_file():
            raise BuildError(f"nothing to resume in {files.root} (no {files.state.name})",
                             fix="run without --resume to start a new training there")
        saved = DetectorConfig.load(files.config)
        if saved != config:
            raise BuildError(f"{files.config} describes a different detector than this command "
                             f"({saved.class_names}, {saved.input_size} px vs {config.class_names}, "
                             f"{config.input_size} px)",
                             fix="resume with the same data, classes and --input-size, or pick a new --out")
    elif files.state.is_file():
        raise BuildError(f"{files.root} already holds a training",
                         fix="add --resume to continue it, or choose another --out")
    config.save(files.config)
    _atomic_write_text(files.settings, json.dumps({**dataclasses.asdict(settings),
                                                   "train_images": len(train_set.samples),
                                                   "val_images": len(val_set.samples)}, indent=2) + "\n")
    (files.root / "data_report.txt").write_text(train_set.report.render(max_lines=10_000) + "\n")

    keras.utils.set_random_seed(settings.seed)
    model = build_model(config)
    done: list[str] = []
    if settings.init == "objectron" and not resume:
        from ..convert.tflite_reader import read_tflite
        from .backbones import load_trunk_weights, objectron_ssd_tflite
        path = objectron_ssd_tflite()
        done = load_trunk_weights(model, read_tflite(path))
        log(f"backbone initialised from {path.name} ({len(done)} layers)")
    elif settings.init != "none" and not resume:
        from .model import init_from_mediapipe, mediapipe_tflite
        path = mediapipe_tflite() if settings.init == "mediapipe" else Path(settings.init)
        done = init_from_mediapipe(model, path)
        log(f"backbone initialised from {path.name} ({len(done)} layers)")

    # The model that is validated, kept and exported: the weight average, or the trained model itself.
    averaged = None
    if settings.ema > 0:
        averaged = build_model(config)
        averaged.set_weights(model.get_weights())
    judged = averaged if averaged is not None else model

    matcher = AnchorMatcher(config.anchor_options, config.decode_options())
    loss_fn = MultiboxLoss(matcher.regression_weights(), kind=settings.loss, box_loss=settings.box_loss,
                           anchors=matcher.anchors, decode=config.decode_options())
    images = settings.image_cache()            # one budget for both (the prefetch thread shares it)
    train_maker = BatchMaker(train_set, config, matcher, settings, train=True, images=images)
    val_maker = BatchMaker(val_set, config, matcher, settings, train=False, images=images)
    steps = train_maker.steps()
    schedule = keras.optimizers.schedules.CosineDecay(
        settings.learning_rate * 0.1, decay_steps=max(1, steps * settings.epochs), alpha=0.02,
        warmup_target=settings.learning_rate, warmup_steps=min(steps * 2, steps * settings.epochs // 4))
    optimizer = keras.optimizers.Adam(learning_rate=schedule)
    optimizer.build(model.trainable_variables)

    state: _ResumeState = {"epoch": -1, "best": -1.0, "best_epoch": -1, "bad_epochs": 0, "seconds": 0.0,
                           "pretrained_layers": done}
    history: list[dict] = []
    if resume:
        model.load_weights(str(files.last_weights))
        if averaged is not None:
            if not files.ema_weights.is_file():
                raise BuildError(f"{files.root} was trained without --ema, so it has no weight average to resume",
                                 fix="resume with --ema 0, or start afresh")
            averaged.load_weights(str(files.ema_weights))
        _load_optimizer_state(optimizer, files.optimizer)
        state = json.loads(files.state.read_text())
        state.setdefault("pretrained_layers", [])
        if files.history.is_file():
            history = json.loads(files.history.read_text())
        log(f"resuming after epoch {state['epoch'] + 1} (best {settings.monitor} {state['best']:.3f} "
            f"at epoch {state['best_epoch'] + 1})")

    # Head first (--head-epochs): the pretrained layers' gradients are multiplied by 0 until the heads
    # have learnt, so the first, large, random-head gradients cannot wreck the pretrained features. Their
    # Adam moments stay at 0 meanwhile, so they move not at all (not merely slowly). Their batch-norm
    # statistics still follow the new data.
    pretrained = set(state["pretrained_layers"])
    held = [v.path.split("/")[0] in pretrained for v in model.trainable_variables]
    pretrained_scale = tf.Variable(1.0, trainable=False, dtype=tf.float32)

    @tf.function(reduce_retracing=True)
    def train_step(x, reg_t, cls_t):
        with tf.GradientTape() as tape:
            reg_p, cls_p = model(x, training=True)
            total, loc, cls = loss_fn(reg_t, reg_p, cls_t, cls_p)
        grads = tape.gradient(total, model.trainable_variables)
        grads = [g * pretrained_scale if h else g for g, h in zip(grads, held)]
        grads, _ = tf.clip_by_global_norm(grads, 10.0)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        if averaged is not None:
            step = tf.cast(optimizer.iterations, tf.float32)
            decay = tf.minimum(settings.ema, (1.0 + step) / (10.0 + step))
            for avg, w in zip(averaged.weights, model.weights):
                avg.assign(decay * avg + (1.0 - decay) * w)
        return total, loc, cls

    @tf.function(reduce_retracing=True)
    def val_step(x, reg_t, cls_t):
        reg_p, cls_p = judged(x, training=False)
        total, loc, cls = loss_fn(reg_t, reg_p, cls_t, cls_p)
        return total, reg_p, cls_p

    from moodcam.detection.pipeline import FaceDetectorPostprocess
    post = FaceDetectorPostprocess(config.spec(settings.eval_min_score, 100))

    log(f"{len(train_set.samples)} training / {len(val_set.samples)} validation images, "
        f"{len(config.class_names)} classes {list(config.class_names)}, {config.input_size} px, "
        f"{config.num_anchors} anchors ({config.box_coding} coding, aspect ratios {list(config.aspect_ratios)}), "
        f"{model.count_params():,} parameters, loss {settings.loss} + {settings.box_loss}"
        + (f", weight average (decay {settings.ema:g}) validated and kept" if averaged is not None else "")
        + (f", the {sum(held)} pretrained weights held for the first {settings.head_epochs} epochs"
           if settings.head_epochs else ""))
    started = time.monotonic() - float(state.get("seconds", 0.0))
    stop_reason = "all epochs done"
    for epoch in range(state["epoch"] + 1, settings.epochs):
        t0 = time.monotonic()
        pretrained_scale.assign(0.0 if epoch < settings.head_epochs else 1.0)
        sums = np.zeros(3)
        bar = tqdm(_prefetch(train_maker, epoch), total=steps, desc=f"epoch {epoch + 1}/{settings.epochs}",
                   unit="batch", disable=settings.quiet, file=sys.stderr, leave=False, dynamic_ncols=True)
        for n, (x, reg_t, cls_t, _) in enumerate(bar, 1):
            out = train_step(tf.constant(x), tf.constant(reg_t), tf.constant(cls_t))
            sums += [float(v) for v in out]
            bar.set_postfix(loss=f"{sums[0] / n:.3f}", loc=f"{sums[1] / n:.3f}", cls=f"{sums[2] / n:.3f}")
        bar.close()
        train_loss = sums / max(1, steps)

        # Validation: loss and COCO AP through the app's decoding, on un-augmented images.
        val_loss, dets = 0.0, []
        for indices in val_maker.epoch_batches(epoch):
            x, reg_t, cls_t, lbs = val_maker.batch(indices, epoch)
            total, reg_p, cls_p = val_step(tf.constant(x), tf.constant(reg_t), tf.constant(cls_t))
            val_loss += float(total) * len(indices)
            reg_p, cls_p = reg_p.numpy(), cls_p.numpy()
            dets += [post(reg_p[i], cls_p[i], lb) for i, lb in enumerate(lbs)]
        val_loss /= max(1, len(val_set.samples))
        stats = coco_evaluate(val_set.samples, dets, list(config.class_names), printer=None)
        metric = stats[settings.monitor]
        improved = metric > state["best"] + 1e-4
        if improved:
            state["best"], state["best_epoch"], state["bad_epochs"] = metric, epoch, 0
            _save_weights(judged, files.best_weights)
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        state["seconds"] = time.monotonic() - started
        history.append({"epoch": epoch + 1, "loss": train_loss[0], "loc": train_loss[1], "cls": train_loss[2],
                        "val_loss": val_loss, **{k: stats[k] for k in ("AP", "AP50", "AP75", "AR100")},
                        "seconds": time.monotonic() - t0})
        _save_weights(model, files.last_weights)
        if averaged is not None:
            _save_weights(averaged, files.ema_weights)
        tmp = files.optimizer.with_name("tmp-optimizer.npz")
        # Typed Any: numpy 2.4's stub declares `allow_pickle: bool` beside savez's **arrays, so a
        # dict of arrays spread into it reads to mypy as feeding that flag.
        arrays: dict[str, Any] = _optimizer_state(optimizer)
        np.savez(tmp, **arrays)
        os.replace(tmp, files.optimizer)
        _atomic_write_text(files.history, json.dumps(history, indent=1) + "\n")
        _atomic_write_text(files.state, json.dumps(state) + "\n")
        log(f"epoch {epoch + 1}/{settings.epochs}: loss {train_loss[0]:.3f} (loc {train_loss[1]:.3f}, "
            f"cls {train_loss[2]:.3f}), val loss {val_loss:.3f}, AP {stats['AP']:.3f}, AP50 {stats['AP50']:.3f}"
            f"{' *' if improved else ''}  [{time.monotonic() - t0:.1f} s]")
        if state["bad_epochs"] >= settings.patience:
            stop_reason = f"early stop: {settings.monitor} did not improve for {settings.patience} epochs"
            break
        if settings.max_minutes is not None and (time.monotonic() - started) / 60 >= settings.max_minutes:
            stop_reason = f"time budget of {settings.max_minutes:g} min reached"
            break
    seconds = time.monotonic() - started
    log(f"{stop_reason}; best {settings.monitor} {state['best']:.3f} at epoch {state['best_epoch'] + 1}, "
        f"{seconds:.0f} s of training")

    if not files.best_weights.is_file():
        raise BuildError("training finished without a validation result to keep")
    model.load_weights(str(files.best_weights))
    from .evaluate import evaluate, keras_raw_fn
    log(f"COCO evaluation of the best weights on {len(val_set.samples)} validation images:")
    final, _ = evaluate(keras_raw_fn(model), config, val_set.samples, min_score=settings.eval_min_score,
                        images=(val_maker.image(i) for i in range(len(val_set.samples))), printer=print)
    result = {"stats": {k: final[k] for k in STAT_KEYS}, "best_epoch": state["best_epoch"] + 1,
              "epochs_run": state["epoch"] + 1, "train_seconds": seconds, "stop_reason": stop_reason,
              "val_images": len(val_set.samples), "train_images": len(train_set.samples)}
    _atomic_write_text(files.eval, json.dumps(result, indent=2) + "\n")
    result["model"] = model
    return result


def load_trained(run_dir: Path):
    """(Keras model with the best weights, DetectorConfig) from a run folder."""
    files = RunFiles(Path(run_dir))
    if not files.config.is_file():
        raise BuildError(f"{run_dir} is not a training run folder (no config.json)",
                         fix="pass the --out folder of `build.py train-detector`")
    config = DetectorConfig.load(files.config)
    weights = files.best_weights if files.best_weights.is_file() else files.last_weights
    if not weights.is_file():
        raise BuildError(f"{run_dir} holds no weights yet", fix="let the training finish one epoch")
    model = build_model(config)
    model.load_weights(str(weights))
    return model, config


def summary_text(stats: dict) -> str:
    return format_summary(stats)
