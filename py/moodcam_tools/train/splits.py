"""Held-out splits by file: train / validation / test lists made once with a fixed seed, committed,
and read back by `train-detector --splits` (train + validation only) and `eval-detector --splits
--split test`.

A list is a text file, one image a line: the image's path relative to the dataset folder (``--data``),
with ``/`` between folders, as :func:`image_key` writes it (``../images/raccoon-1.jpg`` for a CSV set
whose images lie beside its ``data/`` folder). Blank lines and lines starting with ``#`` are ignored.
Keying by file, not by box, keeps every box of one photo on the same side of the split.
"""
from __future__ import annotations

import dataclasses
import os
import random
from collections.abc import Sequence
from pathlib import Path

from ..errors import BuildError
from .datasets import DataReport, Dataset, Sample

SPLIT_NAMES = ("train", "val", "test")
MAKE_COMMAND = "build.py split-detector-data"


@dataclasses.dataclass(frozen=True)
class SplitLists:
    """Image keys (see :func:`image_key`) per split, each list sorted."""

    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]

    def named(self, name: str) -> tuple[str, ...]:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def image_key(image_path: Path, root: Path) -> str:
    """The name a list gives an image: its path relative to the dataset folder, ``/``-separated."""
    return Path(os.path.relpath(os.path.abspath(image_path), os.path.abspath(root))).as_posix()


def _take(keys: list[str], fraction: float, rng: random.Random) -> tuple[list[str], list[str]]:
    """(rest, taken): ``round(len * fraction)`` keys drawn by ``rng`` (at least one, never all, when
    there are two or more keys)."""
    shuffled = list(keys)
    rng.shuffle(shuffled)
    n = int(round(len(keys) * fraction))
    if len(keys) >= 2:
        n = min(max(n, 1), len(keys) - 1)
    taken = set(shuffled[:n])
    return [k for k in keys if k not in taken], [k for k in keys if k in taken]


def three_way_split(keys: Sequence[str], *, val_fraction: float, test_fraction: float = 0.2, seed: int = 0,
                    given_test: Sequence[str] | None = None) -> SplitLists:
    """Train / validation / test lists of image keys; the same keys and seed always give the same lists,
    whatever their order. With ``given_test`` (a dataset's own held-out part, kept as the test split so
    figures stay comparable with earlier ones) only the remaining keys are split, into train and
    validation; otherwise ``test_fraction`` of all keys is drawn first, then ``val_fraction`` of the rest."""
    for name, fraction in (("validation", val_fraction), ("test", test_fraction)):
        if not 0.0 < fraction < 1.0:
            raise BuildError(f"the {name} fraction must be between 0 and 1, got {fraction}")
    ordered = sorted(set(keys))
    if len(ordered) != len(keys):
        raise BuildError("an image is named twice in the set to split")
    rng = random.Random(seed)
    if given_test is not None:
        test = sorted(set(given_test))
        overlap = set(test) & set(ordered)
        if overlap:
            raise BuildError(f"{len(overlap)} images are both in the given test part and in the rest, "
                             f"e.g. {sorted(overlap)[0]}")
        rest = ordered
    else:
        rest, test = _take(ordered, test_fraction, rng)
    train, val = _take(rest, val_fraction, rng)
    return SplitLists(tuple(train), tuple(val), tuple(test))


def render_list(keys: Sequence[str], header: str) -> str:
    """A list file's text: ``# header`` lines, then one key a line."""
    lines = [f"# {line}" for line in header.splitlines()]
    return "\n".join([*lines, *keys]) + "\n"


def write_lists(lists: SplitLists, folder: Path, header: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SPLIT_NAMES:
        path = folder / f"{name}.txt"
        path.write_text(render_list(lists.named(name), header), encoding="utf-8")
        paths.append(path)
    return paths


def parse_list(text: str, where: str) -> list[tuple[int, str]]:
    """(line number, key) of each entry; an entry named twice is an error naming both lines."""
    entries: list[tuple[int, str]] = []
    first: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line in first:
            raise BuildError(f"{where} names {line} twice (lines {first[line]} and {number})",
                             fix="delete one of the two lines")
        first[line] = number
        entries.append((number, line))
    return entries


def read_list(folder: Path, name: str, *, required: bool = True) -> list[tuple[int, str]] | None:
    path = folder / f"{name}.txt"
    if not path.is_file():
        if not required:
            return None
        raise BuildError(f"--splits {folder}: no {name}.txt there",
                         expected="train.txt, val.txt and test.txt, one image path (relative to --data) a line",
                         fix=f"make the lists with `{MAKE_COMMAND} --data DIR --format FMT --out {folder}`")
    return parse_list(path.read_text(encoding="utf-8-sig"), str(path))


def _check_disjoint(lists: dict[str, list[tuple[int, str]]], folder: Path) -> None:
    seen: dict[str, str] = {}
    for name, entries in lists.items():
        for _number, key in entries:
            if key in seen:
                raise BuildError(f"--splits {folder}: {key} is in both {seen[key]}.txt and {name}.txt",
                                 expected="every image in one list only (a photo on both sides of a split "
                                          "makes the held-out figures optimistic)",
                                 fix=f"delete it from one of them, or remake the lists with `{MAKE_COMMAND}`")
            seen[key] = name


def _missing_entry_error(folder: Path, name: str, number: int, key: str, root: Path) -> BuildError:
    """The error for a list entry that matches no loaded image: absent from disk, or present but left out
    by the load (the per-file report printed before says why)."""
    where = f"{folder / (name + '.txt')} line {number}"
    if not (root / key).is_file():
        return BuildError(f"{where} names {key}, but there is no such image in {root}",
                          expected="image paths relative to --data, as the list was made for",
                          fix=f"restore the image, check --data is the folder the lists were made for, or "
                              f"delete the line (or remake the lists with `{MAKE_COMMAND}`)")
    return BuildError(f"{where} names {key}, which the load left out (the per-file report above says why; "
                      "an image with no annotation row or file is not part of the set)",
                      fix="fix or add its annotation, or delete the line")


def select(dataset: Dataset, root: Path, folder: Path, names: Sequence[str]) -> tuple[dict[str, Dataset], str]:
    """The datasets named (of "train", "val", "test") from the lists in ``folder``, each holding exactly
    the images its list names, and a line saying so. Every list present is read so that an image in
    two of them is refused even when only one is used; a list entry that matches no loaded image is an
    error naming the file and line."""
    lists = {n: entries for n in SPLIT_NAMES
             if (entries := read_list(folder, n, required=n in names)) is not None}
    _check_disjoint(lists, folder)
    by_key: dict[str, Sample] = {image_key(s.image_path, root): s for s in dataset.samples}
    chosen: dict[str, Dataset] = {}
    for name in names:
        samples = []
        for number, key in lists[name]:
            sample = by_key.get(key)
            if sample is None:
                raise _missing_entry_error(folder, name, number, key, root)
            samples.append(sample)
        # The load's report travels with the first dataset named, as load_split does with its train part.
        report = dataset.report if name == names[0] else DataReport()
        chosen[name] = Dataset(samples, dataset.class_names, report)
    listed = {key for entries in lists.values() for _n, key in entries}
    unlisted = len([k for k in by_key if k not in listed])
    counts = " / ".join(f"{len(chosen[n].samples)} {n}" for n in names)
    held = [f"{n}.txt's {len(lists[n])} images not used" for n in lists if n not in names]
    how = f"split lists {folder}: {counts}" + "".join(f"; {h}" for h in held)
    if unlisted:
        how += f"; {unlisted} loaded images are in no list and are left out"
    return chosen, how
