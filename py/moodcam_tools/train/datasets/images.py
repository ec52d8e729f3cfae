"""Decoding a dataset's images: one image to RGB pixels, the size check a loader makes of every
image, and the bounded cache that training reads images through.
"""
from __future__ import annotations

import collections
import threading
from pathlib import Path

import numpy as np


def read_image(path: Path) -> np.ndarray:
    """RGB uint8 (H, W, 3); raises OSError/ValueError for unreadable files."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        return np.asarray(im.convert("RGB"))


DEFAULT_IMAGE_CACHE_MB = 1024


class ImageCache:
    """Images decoded on demand; the most recently used kept while they fit in ``max_bytes``.

    Training reads every image once per epoch: a small set stays decoded after the
    first epoch, a big one (500 photos of 12 MP are ~18 GB decoded) is re-read from
    disk instead of filling the memory. An image larger than the whole budget is
    decoded for each use and never kept. Safe to share between threads.
    """

    def __init__(self, max_bytes: int = DEFAULT_IMAGE_CACHE_MB * 2**20, reader=None):
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._read = reader
        self._images: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.decodes = 0

    def __len__(self) -> int:
        return len(self._images)

    def get(self, path: Path) -> np.ndarray:
        key = str(path)
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
                return image
        image = (self._read or read_image)(Path(path))
        with self._lock:
            self.decodes += 1
            if image.nbytes <= self.max_bytes and key not in self._images:
                self._images[key] = image
                self.bytes += image.nbytes
                while self.bytes > self.max_bytes:
                    _, old = self._images.popitem(last=False)
                    self.bytes -= old.nbytes
        return image


def _image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) after a full decode, or None if the file cannot be decoded."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()          # decode everything: truncated files fail here, not in training
            w, h = im.size
    except Exception:  # noqa: BLE001 - PIL raises many types for bad files
        return None
    return (w, h) if w > 0 and h > 0 else None
