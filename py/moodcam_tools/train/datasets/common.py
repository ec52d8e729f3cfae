"""The shared vocabulary of the dataset loaders: the in-memory form every format becomes
(:class:`Sample`, :class:`Dataset`), the bad-data report (:class:`DataReport` and its REASONS),
and the checks every loaded box passes (:class:`_Checker`), with the path rules that keep
annotations from reading outside the dataset folder.
"""
from __future__ import annotations

import collections
import dataclasses
import os
from pathlib import Path

import numpy as np

from .images import _image_size

FORMATS = ("voc", "yolo", "csv")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

# The kinds of bad data, as the report prints them.
ANNOTATION_WITHOUT_IMAGE = "annotation without image"
IMAGE_UNREADABLE = "image unreadable"
BOX_OUTSIDE = "box outside the image"
ZERO_AREA = "zero-area box"
UNKNOWN_CLASS = "unknown class"
BAD_ANNOTATION = "annotation unreadable"
NO_VALID_BOX = "no valid box left"
PATH_OUTSIDE = "image path outside the dataset folder"
REASONS = (ANNOTATION_WITHOUT_IMAGE, IMAGE_UNREADABLE, BOX_OUTSIDE, ZERO_AREA, UNKNOWN_CLASS, BAD_ANNOTATION,
           NO_VALID_BOX, PATH_OUTSIDE)
# Labelling tools write xmax = width (1-based pixels) or round a little past
# the edge: boxes within this many pixels of the image are clipped, not dropped.
EDGE_TOLERANCE_PX = 1.0
# A class name is shown as the box's label in the app and stored in the model's manifest: it must be
# text a person can read, and short (a crafted file once gave a 226 MB one).
MAX_CLASS_NAME_CHARS = 100


@dataclasses.dataclass(frozen=True)
class Sample:
    """One image and its objects. boxes: (K, 4) float32 xyxy in image pixels; labels: K class names."""

    image_path: Path
    width: int
    height: int
    boxes: np.ndarray
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "labels", tuple(self.labels))
        if len(self.labels) != boxes.shape[0]:
            raise ValueError(f"{self.image_path}: {boxes.shape[0]} boxes but {len(self.labels)} labels")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the data: which file, which kind (one of REASONS), details."""

    file: str
    reason: str
    detail: str = ""


@dataclasses.dataclass
class DataReport:
    """What a load kept and what it skipped, per file and with counts per reason.

    ``notes`` are files that were used but read in an unexpected way (another text
    encoding): nothing was skipped, but the person should know.
    """

    problems: list[Problem] = dataclasses.field(default_factory=list)
    images_ok: int = 0
    boxes_ok: int = 0
    notes: list[Problem] = dataclasses.field(default_factory=list)

    def add(self, file, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        self.problems.append(Problem(str(file), reason, detail))

    def note(self, file, detail: str) -> None:
        self.notes.append(Problem(str(file), "note", detail))

    @property
    def counts(self) -> dict[str, int]:
        """{reason: number of problems of that kind}, only kinds that occurred."""
        return dict(collections.Counter(p.reason for p in self.problems))

    def files_with(self, reason: str) -> list[str]:
        return sorted({p.file for p in self.problems if p.reason == reason})

    def merge(self, other: "DataReport") -> "DataReport":
        # A file both parts read (YOLO names of a split) is reported once.
        return DataReport(self.problems + [p for p in other.problems if p not in self.problems],
                          self.images_ok + other.images_ok, self.boxes_ok + other.boxes_ok,
                          self.notes + [n for n in other.notes if n not in self.notes])

    def render(self, max_lines: int = 50) -> str:
        lines = [f"data: {self.images_ok} images and {self.boxes_ok} boxes usable"]
        if not self.problems:
            lines[0] += ", nothing skipped"
        else:
            counts = self.counts
            lines[0] += "; skipped: " + ", ".join(f"{counts[r]} x {r}" for r in REASONS if r in counts)
            for p in self.problems[:max_lines]:
                lines.append(f"  {p.file}: {p.reason}" + (f" ({p.detail})" if p.detail else ""))
            if len(self.problems) > max_lines:
                lines.append(f"  ... and {len(self.problems) - max_lines} more")
        if self.notes:
            lines.append(f"notes ({len(self.notes)} file(s) used as read below):")
            lines += [f"  {n.file}: {n.detail}" for n in self.notes[:max_lines]]
            if len(self.notes) > max_lines:
                lines.append(f"  ... and {len(self.notes) - max_lines} more")
        return "\n".join(lines)


@dataclasses.dataclass
class Dataset:
    samples: list[Sample]
    class_names: list[str]
    report: DataReport

    @property
    def num_boxes(self) -> int:
        return int(sum(s.boxes.shape[0] for s in self.samples))


def _inside(path: Path, base: Path) -> bool:
    """Whether ``path`` (made absolute, ``..`` folded, symlinks not followed) lies in ``base``."""
    p = os.path.normpath(os.path.abspath(path))
    b = os.path.normpath(os.path.abspath(base))
    return p == b or p.startswith(b.rstrip(os.sep) + os.sep)


def _image_candidates(name: str, dirs: list[Path], base: Path) -> Path | None:
    """Where an annotation's image ``name`` is: the first existing dir/name inside ``base`` (or the first
    such candidate, to report as missing); None when no candidate exists and ``name`` climbs out of
    ``base`` (an absolute path elsewhere, or ``..`` too many). Only paths inside ``base`` are ever
    returned, so nothing outside the dataset folder is read."""
    dirs = [d for d in dirs if _inside(d, base)]
    inside = [d / name for d in dirs if _inside(d / name, base)]
    found = next((c for c in inside if c.is_file()), None)
    if found is not None:
        return found
    if len(inside) < len(dirs) or not inside:
        return None
    return inside[0]


def _shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to about ``limit`` characters, so a hostile value cannot flood the report."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _kind(value: object) -> str:
    """What a non-text value is, in words (YAML turns unquoted yes/no into booleans, 3 into a number)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a mapping" if isinstance(value, dict) else f"a {type(value).__name__}"


def class_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a class name, or None when it can: it must be text (not a number, a
    true/false or a list), not empty, at most MAX_CLASS_NAME_CHARS characters, with no control
    characters (a tab or line break would break the labels list and the report)."""
    if not isinstance(name, str):
        return f"the class name {_shown(name)} is {_kind(name)}, not text"
    if not name.strip():
        return "the class name is empty"
    if len(name) > MAX_CLASS_NAME_CHARS:
        return f"the class name {_shown(name)} is longer than {MAX_CLASS_NAME_CHARS} characters"
    if not name.isprintable():
        return f"the class name {_shown(name)} holds a control character (a tab, a line break, ...)"
    return None


def _outside_detail(name: str, base: Path) -> str:
    return (f"{name!r} points outside {base}; write the image's path relative to the dataset folder "
            "and keep the image inside it")


class _Checker:
    """Validates raw objects of one image against its real size and the class list; keeps the images
    that pass, in the order given, in ``samples`` (every format's loader returns those)."""

    def __init__(self, report: DataReport, classes: list[str] | None):
        self.report = report
        self.classes = classes            # None: accept any name (the class list is discovered)
        self.seen: set[str] = set()
        self.samples: list[Sample] = []

    def add(self, ann_file, image_path: Path, objects: list[tuple[str, float, float, float, float]],
            *, had_objects: bool | None = None) -> None:
        """Checks one image's objects; the image joins ``samples`` unless a problem left it out."""
        sample = self._sample(ann_file, image_path, objects, had_objects=had_objects)
        if sample is not None:
            self.samples.append(sample)

    def _sample(self, ann_file, image_path: Path, objects: list[tuple[str, float, float, float, float]],
                *, had_objects: bool | None = None) -> Sample | None:
        if not image_path.is_file():
            self.report.add(ann_file, ANNOTATION_WITHOUT_IMAGE, f"no image {image_path.name}")
            return None
        size = _image_size(image_path)
        if size is None:
            self.report.add(image_path, IMAGE_UNREADABLE, "cannot decode the image file")
            return None
        w, h = size
        boxes: list[tuple[float, float, float, float]] = []
        labels: list[str] = []
        for name, x1, y1, x2, y2 in objects:
            problem = class_name_problem(name)
            if problem is not None:
                self.report.add(ann_file, BAD_ANNOTATION, f"object at [{x1:g}, {y1:g}, {x2:g}, {y2:g}]: {problem}; "
                                f"write its class as a name of 1 to {MAX_CLASS_NAME_CHARS} characters")
                continue
            where = f"{name} [{x1:g}, {y1:g}, {x2:g}, {y2:g}]"
            if self.classes is not None and name not in self.classes:
                self.report.add(ann_file, UNKNOWN_CLASS, f"{name!r} not in {self.classes}")
                continue
            if not all(np.isfinite([x1, y1, x2, y2])):
                self.report.add(ann_file, ZERO_AREA, f"{where} is not finite")
                continue
            t = EDGE_TOLERANCE_PX
            if min(x1, x2) < -t or min(y1, y2) < -t or max(x1, x2) > w + t or max(y1, y2) > h + t:
                self.report.add(ann_file, BOX_OUTSIDE, f"{where} not within the {w}x{h} image")
                continue
            x1, x2 = np.clip([x1, x2], 0, w)
            y1, y2 = np.clip([y1, y2], 0, h)
            if x2 - x1 <= 0 or y2 - y1 <= 0:
                self.report.add(ann_file, ZERO_AREA, f"{where} has no area")
                continue
            boxes.append((x1, y1, x2, y2))
            labels.append(name)
        has_any = bool(objects) if had_objects is None else had_objects
        if has_any and not boxes:
            # Its objects are real but unusable: as a negative it would teach the wrong thing.
            self.report.add(ann_file, NO_VALID_BOX, "image left out")
            return None
        self.seen.update(labels)
        self.report.images_ok += 1
        self.report.boxes_ok += len(boxes)
        return Sample(image_path, w, h, np.asarray(boxes, np.float32).reshape(-1, 4), tuple(labels))


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
