"""Loading a dataset folder in any format, whole or as a train/validation split (the folder's own,
or a seeded one), and stopping clearly when nothing usable is left.
"""
from __future__ import annotations

import random
from pathlib import Path

from ...errors import BuildError
from .common import FORMATS, MAX_CLASS_NAME_CHARS, DataReport, Dataset, Sample, class_name_problem
from .csv_format import _load_csv, _load_csv_files
from .voc import _load_voc
from .yolo import _load_yolo, _load_yolo_dirs, _yolo_names

_LOADERS = {"voc": _load_voc, "yolo": _load_yolo, "csv": _load_csv}


# ------------------------------------------------------------------ public API

def _check_args(root: Path, fmt: str) -> Path:
    root = Path(root)
    if fmt not in FORMATS:
        raise BuildError(f"unknown dataset format {fmt!r}", expected=" or ".join(FORMATS))
    if not root.is_dir():
        raise BuildError(f"dataset folder {root} does not exist", fix="point --data at the dataset folder")
    return root


def _check_classes(classes: list[str] | None) -> None:
    """A given class list (--classes) follows the rules every class name in a dataset follows."""
    for name in classes or []:
        problem = class_name_problem(name)
        if problem is not None:
            raise BuildError(f"the class list: {problem}",
                             expected=f"class names of 1 to {MAX_CLASS_NAME_CHARS} printable characters",
                             fix="correct that name in --classes")


def _finish(samples: list[Sample], report: DataReport, seen: set[str], classes: list[str] | None) -> Dataset:
    class_names = list(classes) if classes is not None else sorted(seen)
    return Dataset(samples, class_names, report)


def load_dataset(root: Path, fmt: str, classes: list[str] | None = None) -> Dataset:
    """Load every annotated image under ``root`` (no split). ``classes``: fixed class list, others reported."""
    root = _check_args(root, fmt)
    _check_classes(classes)
    samples, report, seen = _LOADERS[fmt](root, classes)
    return _finish(samples, report, seen, classes)


VAL_NAMES = ("val", "valid", "validation", "test")


def _given_split(root: Path, fmt: str) -> tuple[str, list[Path], list[Path]] | None:
    """('folders', [train_dir], [val_dir]) / ('yolo-sub', [train sub-folder], [val sub-folder]) of
    images/ and labels/ / ('csv', train_files, val_files), or None when no split is given."""
    train_dir = root / "train"
    val_dir = next((root / n for n in VAL_NAMES if (root / n).is_dir()), None)
    if train_dir.is_dir() and val_dir is not None:
        return ("folders", [train_dir], [val_dir])
    if fmt == "yolo" and (root / "images" / "train").is_dir():
        val_sub = next((n for n in VAL_NAMES if (root / "images" / n).is_dir()), None)
        if val_sub is not None:
            return ("yolo-sub", [Path("train")], [Path(val_sub)])
    if fmt == "csv":
        files = sorted(root.glob("*.csv"))
        train = [f for f in files if f.stem.lower().startswith("train")]
        val = [f for f in files if f.stem.lower().startswith(VAL_NAMES)]
        if train and val:
            return ("csv", train, val)
    return None


def has_given_split(root: Path, fmt: str) -> bool:
    """Whether the folder carries its own train / held-out split (which load_split then uses)."""
    return _given_split(_check_args(root, fmt), fmt) is not None


def load_split(root: Path, fmt: str, classes: list[str] | None = None, *, val_fraction: float = 0.2,
               seed: int = 0) -> tuple[Dataset, Dataset, str]:
    """(train, val, how): the given split when the folder has one, else a seeded split of everything."""
    root = _check_args(root, fmt)
    _check_classes(classes)
    given = _given_split(root, fmt)
    if given is None:
        full = load_dataset(root, fmt, classes)
        train, val = split_samples(full.samples, val_fraction, seed)
        how = f"seeded split (seed {seed}): {len(train)} train / {len(val)} validation"
        return (Dataset(train, full.class_names, full.report), Dataset(val, full.class_names, DataReport()), how)
    kind, a, b = given
    if kind == "folders":
        # Annotations in DIR/train may name images anywhere inside DIR (e.g. ../images/x.jpg).
        r1, r2 = _LOADERS[fmt](a[0], classes, base=root), _LOADERS[fmt](b[0], classes, base=root)
    elif kind == "yolo-sub":
        names_report = DataReport()
        names = _yolo_names(root, names_report, classes)
        r1, r2 = (_load_yolo_dirs(root, root / "images" / sub, root / "labels" / sub, names, classes,
                                  DataReport()) for sub in (a[0], b[0]))
        r1 = (r1[0], names_report.merge(r1[1]), r1[2])
    else:
        r1, r2 = _load_csv_files(root, a, classes), _load_csv_files(root, b, classes)
    seen = r1[2] | r2[2]
    class_names = list(classes) if classes is not None else sorted(seen)
    report = r1[1].merge(r2[1])
    how = f"given split: {len(r1[0])} train / {len(r2[0])} validation"
    return Dataset(r1[0], class_names, report), Dataset(r2[0], class_names, DataReport()), how


def split_samples(samples: list[Sample], val_fraction: float = 0.2, seed: int = 0
                  ) -> tuple[list[Sample], list[Sample]]:
    """Seeded split: the same samples and seed always give the same (train, val), whatever the load order."""
    if not 0.0 < val_fraction < 1.0:
        raise BuildError(f"the validation fraction must be between 0 and 1, got {val_fraction}")
    ordered = sorted(samples, key=lambda s: str(s.image_path))
    idx = list(range(len(ordered)))
    random.Random(seed).shuffle(idx)
    n_val = int(round(len(ordered) * val_fraction))
    if len(ordered) >= 2:
        n_val = min(max(n_val, 1), len(ordered) - 1)
    val_idx = set(idx[:n_val])
    train = [s for i, s in enumerate(ordered) if i not in val_idx]
    val = [s for i, s in enumerate(ordered) if i in val_idx]
    return train, val


def require_samples(dataset: Dataset, what: str, root: Path) -> None:
    """Stop with a clear message when nothing valid is left."""
    if dataset.samples:
        return
    counts = dataset.report.counts
    detail = ", ".join(f"{n} x {r}" for r, n in counts.items()) or "no annotation files found"
    raise BuildError(f"no valid {what} images left in {root} ({detail})",
                     expected="images with readable annotations whose boxes lie inside the image "
                              "and name a known class",
                     fix="read the per-file report above and fix or remove those files; "
                         "check --format matches the folder layout")
