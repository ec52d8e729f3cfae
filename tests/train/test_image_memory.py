"""Images are decoded on demand and held within a stated budget, in training and in evaluation.

Before: training kept every decoded full-size image for the whole run (500 photos of
12 MP are ~18 GB) and evaluation decoded the whole set before the first prediction.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from moodcam_tools.train import datasets
from moodcam_tools.train import evaluate as evaluate_module
from moodcam_tools.train import train as train_module


class _Live:
    """A read_image stand-in that counts the decoded images still alive."""

    def __init__(self):
        self.refs: list[weakref.ref] = []
        self.decodes = 0
        self.peak = 0

    def __call__(self, path):
        image = _real_read_image(path)
        self.decodes += 1
        self.refs.append(weakref.ref(image))
        self.peak = max(self.peak, self.alive())
        return image

    def alive(self) -> int:
        gc.collect()
        return sum(r() is not None for r in self.refs)

    def alive_bytes(self) -> int:
        gc.collect()
        return sum(r().nbytes for r in self.refs if r() is not None)


_real_read_image = datasets.read_image


@pytest.fixture
def live(monkeypatch):
    counter = _Live()
    # datasets.images is where ImageCache looks read_image up (the package re-exports it).
    for module in (datasets, datasets.images, evaluate_module, train_module):
        monkeypatch.setattr(module, "read_image", counter, raising=False)
    return counter


def test_image_cache_keeps_the_most_recent_within_its_budget(tmp_path):
    from PIL import Image

    paths = []
    for i in range(5):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(np.full((100, 100, 3), i, np.uint8)).save(paths[-1])
    size = 100 * 100 * 3
    cache = datasets.ImageCache(max_bytes=int(2.5 * size))
    for _ in range(2):
        for p in paths:
            assert cache.get(p)[0, 0, 0] == int(p.stem)
            assert cache.bytes <= cache.max_bytes and len(cache) <= 2
    assert cache.decodes == 10                       # cycling through more than fits: every read decodes
    for _ in range(3):
        cache.get(paths[-1])
    assert cache.decodes == 10                       # the most recent one is kept
    small = datasets.ImageCache(max_bytes=size - 1)  # an image larger than the whole budget is never kept
    small.get(paths[0])
    assert len(small) == 0 and small.bytes == 0
    with pytest.raises(ValueError):
        datasets.ImageCache(max_bytes=-1)


def test_training_batches_hold_at_most_the_budget(small_sets, live):
    from moodcam_tools.train.model import DetectorConfig
    from moodcam_tools.train.targets import AnchorMatcher
    from moodcam_tools.train.train import BatchMaker, TrainSettings

    ds = datasets.load_dataset(small_sets["csv"], "csv")
    budget = int(2.5 * max(s.width * s.height * 3 for s in ds.samples))
    budget_mb = budget / 2**20
    settings = TrainSettings(batch_size=4, augment=False, image_cache_mb=budget_mb)
    config = DetectorConfig(tuple(ds.class_names))
    maker = BatchMaker(ds, config, AnchorMatcher(config.anchor_options, config.decode_options()), settings,
                       train=True)
    for epoch in range(2):
        for indices in maker.epoch_batches(epoch):
            maker.batch(indices, epoch)
            assert live.alive_bytes() <= budget and live.alive() < len(ds.samples), live.alive()
    assert live.decodes > len(ds.samples)            # re-read from disk instead of kept


def test_evaluation_decodes_one_image_at_a_time(small_sets, live):
    from moodcam_tools.train.model import DetectorConfig

    ds = datasets.load_dataset(small_sets["voc"], "voc")
    config = DetectorConfig(tuple(ds.class_names))
    seen = []

    def raw_fn(x):
        seen.append(live.alive())
        n = config.num_anchors
        return np.zeros((len(x), n, 4), np.float32), np.full((len(x), n, config.num_classes), -20, np.float32)

    stats, dets = evaluate_module.evaluate(raw_fn, config, ds.samples, printer=None)
    assert len(dets) == len(ds.samples) == live.decodes
    assert live.peak <= 2 and max(seen) <= 2, (live.peak, seen)
