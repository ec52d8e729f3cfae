"""Detection datasets in Pascal VOC XML, YOLO txt or the 9-column CSV -> one in-memory form.

Every loader returns a :class:`Dataset`: a list of :class:`Sample` (image path,
size, boxes as (K, 4) xyxy float32 in image pixels, class names), the class
list, and a :class:`DataReport` that names each bad file, why it was skipped
and how many of each kind there were. Bad data never stops a load; only an
empty result does (:func:`require_samples`), or YOLO class names that cannot be
read at all (every label file needs them).

Text files are read as UTF-8 (a UTF-8 or UTF-16 byte-order mark, as Excel writes,
is honoured); a file that is not UTF-8 is read as cp1252 (Windows-1252, a superset
of Latin-1 for printable characters) or, failing that, Latin-1, and the report
notes it. XML files follow their own encoding declaration; one naming an unknown
encoding is read the same way. Image paths written in annotations (VOC
``<filename>``, the CSV ``filename`` column) must stay inside the dataset folder:
an absolute path elsewhere or a ``..`` that climbs out is rejected for that file.

Layouts understood (DIR is what ``--data`` points at):

* ``voc``:  ``*.xml`` anywhere under DIR (LabelImg / seed 003); the image is the
  XML's ``<filename>`` next to the XML, in DIR, ``DIR/JPEGImages`` or ``DIR/images``.
* ``yolo``: ``DIR/images/**`` and ``DIR/labels/**`` with the same relative stem
  (``class cx cy w h`` normalised, seed 002); class names in ``DIR/classes.txt``
  (one a line) or ``DIR/data.yaml`` (``names:`` as a list or an ``{id: name}``
  mapping). An image without a label file is a negative (no objects), as in YOLO.
* ``csv``:  ``*.csv`` in DIR with the header
  ``filename,width,height,class,xmin,ymin,xmax,ymax,source`` (seed 003), fields
  separated by ``,`` (or ``;`` / a tab when the header holds no comma). An image
  named in a CSV is looked for next to the CSV (DIR) or in ``DIR/images`` and,
  failing that, in the ``images/`` folder beside DIR (``DIR/../images``: a set kept
  as ``data/*.csv`` + ``images/``, such as the raccoon set, is used as it is with
  ``--data set/data``); the name must stay inside the folder where it is found.
  An image with no row is not part of the set.

A given split is used as is: sub-folders ``DIR/train`` and ``DIR/val`` (or
``valid``/``test``) for any format, or ``train*.csv`` + ``val*.csv``/``test*.csv``.
Without one, :func:`split_samples` makes a seeded 80/20 split.
"""
from __future__ import annotations

import codecs
import collections
import csv
import dataclasses
import io
import os
import random
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ..errors import BuildError

__all__ = [
    "FORMATS", "REASONS", "Sample", "Problem", "DataReport", "Dataset", "load_dataset", "load_split",
    "split_samples", "require_samples", "read_image", "read_text", "decode_text", "ImageCache",
    "DEFAULT_IMAGE_CACHE_MB",
]

FORMATS = ("voc", "yolo", "csv")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
CSV_COLUMNS = ["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax", "source"]

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


# ------------------------------------------------------------------ helpers

# Tried in this order for text that is not UTF-8: cp1252 is what Windows tools and
# Excel write in western locales (and reads Latin-1 text the same for every printable
# character); Latin-1 decodes any byte, so reading never fails.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding used): a byte-order mark decides; else UTF-8; else FALLBACK_ENCODINGS in order."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                data = data[len(bom):]
                break
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in FALLBACK_ENCODINGS[:-1]:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    return data.decode(FALLBACK_ENCODINGS[-1]), FALLBACK_ENCODINGS[-1]


def _fallback_note(encoding: str) -> str:
    return (f"not UTF-8: read as {encoding}; if names look wrong, save the file as UTF-8")


def read_text(path: Path, report: "DataReport | None" = None, name: str | None = None) -> str:
    """A text file decoded by :func:`decode_text`; a fallback encoding is noted in ``report``."""
    text, encoding = decode_text(Path(path).read_bytes())
    if report is not None and encoding not in ("utf-8", "utf-8-sig", "utf-16"):
        report.note(name or path, _fallback_note(encoding))
    return text


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


def _inside(path: Path, base: Path) -> bool:
    """Whether ``path`` (made absolute, ``..`` folded, symlinks not followed) lies in ``base``."""
    p = os.path.normpath(os.path.abspath(path))
    b = os.path.normpath(os.path.abspath(base))
    return p == b or p.startswith(b.rstrip(os.sep) + os.sep)


def _image_candidates(name: str, dirs: list[Path], base: Path) -> tuple[Path | None, bool]:
    """Where an annotation's image ``name`` is: (path, True), the first existing dir/name inside ``base``
    (or the first such candidate, to report as missing); (None, False) when no candidate exists and
    ``name`` climbs out of ``base`` (an absolute path elsewhere, or ``..`` too many). Only paths inside
    ``base`` are ever returned, so nothing outside the dataset folder is read."""
    dirs = [d for d in dirs if _inside(d, base)]
    inside = [d / name for d in dirs if _inside(d / name, base)]
    found = next((c for c in inside if c.is_file()), None)
    if found is not None:
        return found, True
    if len(inside) < len(dirs) or not inside:
        return None, False
    return inside[0], True


def _outside_detail(name: str, base: Path) -> str:
    return (f"{name!r} points outside {base}; write the image's path relative to the dataset folder "
            "and keep the image inside it")


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


class _Checker:
    """Validates raw objects of one image against its real size and the class list."""

    def __init__(self, report: DataReport, classes: list[str] | None):
        self.report = report
        self.classes = classes            # None: accept any name (the class list is discovered)
        self.seen: set[str] = set()

    def sample(self, ann_file, image_path: Path, objects: list[tuple[str, float, float, float, float]],
               *, had_objects: bool | None = None) -> Sample | None:
        if not image_path.is_file():
            self.report.add(ann_file, ANNOTATION_WITHOUT_IMAGE, f"no image {image_path.name}")
            return None
        size = _image_size(image_path)
        if size is None:
            self.report.add(image_path, IMAGE_UNREADABLE, "cannot decode the image file")
            return None
        w, h = size
        boxes, labels = [], []
        for name, x1, y1, x2, y2 in objects:
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


# ------------------------------------------------------------------ VOC

def _voc_float(node, tag: str) -> float:
    text = node.findtext(tag)
    if text is None:
        raise ValueError(f"<{tag}> missing")
    return float(text.strip())


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([^\"']*)[\"']")


def _parse_xml(path: Path, report: DataReport, rel: str) -> ET.Element:
    """The XML's root: its own encoding declaration first; when that fails (an unknown or wrong encoding,
    a file that is not UTF-8), the text as :func:`decode_text` reads it. Raises ET.ParseError."""
    data = path.read_bytes()
    try:
        return ET.fromstring(data)
    except (ET.ParseError, LookupError, ValueError) as error:
        first = error
    text, encoding = decode_text(data)
    try:
        root = ET.fromstring(_XML_DECLARATION.sub("", text, count=1))
    except ET.ParseError:
        if isinstance(first, ET.ParseError):
            raise first from None
        raise ET.ParseError(str(first)) from None
    declared = _XML_ENCODING.match(data)
    said = f"declares encoding {declared.group(1).decode('ascii', 'replace')!r}, which " if declared else ""
    if isinstance(first, LookupError):
        report.note(rel, f"{said}Python does not know; read as {encoding}")
    elif encoding in FALLBACK_ENCODINGS:
        report.note(rel, (f"{said}does not fit; " if declared else "") + _fallback_note(encoding))
    else:
        report.note(rel, f"{said}does not fit; read as {encoding}" if declared else f"read as {encoding}")
    return root


def _load_voc(root: Path, classes: list[str] | None, *, base: Path | None = None
              ) -> tuple[list[Sample], DataReport, set[str]]:
    base = base or root
    report = DataReport()
    check = _Checker(report, classes)
    samples = []
    for xml_path in sorted(root.rglob("*.xml")):
        rel = _rel(xml_path, base)
        try:
            tree = _parse_xml(xml_path, report, rel)
            filename = (tree.findtext("filename") or "").strip()
            if not filename:
                raise ValueError("<filename> missing")
            objects = []
            for obj in tree.iter("object"):
                name = (obj.findtext("name") or "").strip()
                bb = obj.find("bndbox")
                if bb is None:
                    raise ValueError(f"object {name!r} has no <bndbox>")
                objects.append((name, _voc_float(bb, "xmin"), _voc_float(bb, "ymin"),
                                _voc_float(bb, "xmax"), _voc_float(bb, "ymax")))
        except (ET.ParseError, ValueError) as error:
            report.add(rel, BAD_ANNOTATION, str(error))
            continue
        except OSError as error:
            report.add(rel, BAD_ANNOTATION, f"cannot read the file: {error.strerror or error}")
            continue
        image, ok = _image_candidates(filename, [xml_path.parent, root, root / "JPEGImages", root / "images",
                                                 xml_path.parent.parent / "JPEGImages"], base)
        if not ok:
            report.add(rel, PATH_OUTSIDE, _outside_detail(filename, base))
            continue
        s = check.sample(rel, image, objects)
        if s is not None:
            samples.append(s)
    return samples, report, check.seen


# ------------------------------------------------------------------ YOLO

NAMES_FILES = ("classes.txt", "data.yaml", "dataset.yaml")
MAX_CLASS_ID = 10_000            # an {id: name} mapping is turned into a list indexed by id


def _names_from_yaml(text: str) -> list[str | None]:
    """``names:`` of a YOLO data.yaml: a list (block or inline) or an {id: name} mapping (block or inline,
    ids as numbers or quoted). Ids missing from a mapping are None. Raises ValueError when unusable."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"not valid YAML{where}: {getattr(error, 'problem', None) or error}") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, (list, tuple)):
        out = [None if n is None else str(n).strip() for n in names]
    elif isinstance(names, dict):
        items: dict[int, str] = {}
        for key, value in names.items():
            try:
                cid = int(str(key).strip())
            except ValueError:
                raise ValueError(f"names: key {key!r} is not a class id (0, 1, ...)") from None
            if not 0 <= cid < MAX_CLASS_ID:
                raise ValueError(f"names: class id {cid} is not between 0 and {MAX_CLASS_ID - 1}")
            items[cid] = None if value is None else str(value).strip()
        out = [items.get(i) for i in range(max(items) + 1)] if items else []
    elif names is None:
        raise ValueError("no `names:` entry")
    else:
        raise ValueError(f"`names:` is a {type(names).__name__}, expected a list or an {{id: name}} mapping")
    if not any(out):
        raise ValueError("`names:` is empty")
    return out


def _yolo_names(root: Path, report: DataReport, classes: list[str] | None) -> list[str | None]:
    """Class names by id from classes.txt / data.yaml in ``root`` or its parent (first one usable).

    A names file that cannot be used is reported and the next one tried; with none usable, ``classes``
    (--classes) names the ids, and without it the load stops: every label file needs the names.
    """
    tried = []
    for folder in (root, root.parent):
        for fname in NAMES_FILES:
            path = folder / fname
            if not path.is_file():
                continue
            shown = fname if folder == root else str(path)
            try:
                text = read_text(path, report, shown)
                if fname == "classes.txt":
                    return [line.strip() for line in text.splitlines() if line.strip()]
                return _names_from_yaml(text)
            except (ValueError, OSError) as error:
                detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
                report.add(shown, BAD_ANNOTATION, f"class names unreadable: {detail}")
                tried.append(f"{path} ({detail})")
    if classes is not None:
        return list(classes)
    if tried:
        raise BuildError(f"the YOLO class names cannot be read from {'; '.join(tried)}",
                         expected="classes.txt (one name a line, line n = class id n) or data.yaml with "
                                  "`names: [a, b]` or `names: {0: a, 1: b}`",
                         fix="repair that file, or pass --classes name0,name1,... in class id order")
    raise BuildError(f"{root} holds no classes.txt or data.yaml, so YOLO class ids have no names",
                     expected="classes.txt (one name a line, line n = class id n) or data.yaml `names:`",
                     fix="add classes.txt or pass --classes name0,name1,...")


def _load_yolo(root: Path, classes: list[str] | None, *, base: Path | None = None
               ) -> tuple[list[Sample], DataReport, set[str]]:
    report = DataReport()
    names = _yolo_names(root, report, classes)
    images_dir = root / "images" if (root / "images").is_dir() else root
    labels_dir = root / "labels" if (root / "labels").is_dir() else root
    return _load_yolo_dirs(base or root, images_dir, labels_dir, names, classes, report)


def _load_yolo_dirs(root: Path, images_dir: Path, labels_dir: Path | None, names: list[str | None],
                    classes: list[str] | None, report: DataReport) -> tuple[list[Sample], DataReport, set[str]]:
    """Images under ``images_dir`` and labels with the same relative stem under ``labels_dir``."""
    check = _Checker(report, classes)
    images = {p.relative_to(images_dir).with_suffix("").as_posix(): p
              for p in sorted(images_dir.rglob("*")) if p.suffix.lower() in IMAGE_EXTS}
    labels = {} if labels_dir is None or not labels_dir.is_dir() else {
        p.relative_to(labels_dir).with_suffix("").as_posix(): p
        for p in sorted(labels_dir.rglob("*.txt")) if p.name != "classes.txt"}
    samples = []
    for stem in sorted(set(images) | set(labels)):
        label_path = labels.get(stem)
        image_path = images.get(stem)
        if image_path is None:
            report.add(_rel(label_path, root), ANNOTATION_WITHOUT_IMAGE, f"no image {stem}.*")
            continue
        rel = _rel(label_path, root) if label_path else _rel(image_path, root)
        rows = []
        if label_path is not None:
            try:
                for n, line in enumerate(read_text(label_path).splitlines(), 1):
                    parts = line.split()
                    if not parts:
                        continue
                    if len(parts) < 5:
                        raise ValueError(f"line {n}: expected 'class cx cy w h', got {line.strip()[:60]!r}")
                    rows.append((parts[0], *(float(v) for v in parts[1:5])))
            except ValueError as error:
                report.add(rel, BAD_ANNOTATION, str(error))
                continue
            except OSError as error:
                report.add(rel, BAD_ANNOTATION, f"cannot read the file: {error.strerror or error}")
                continue
        size = _image_size(image_path)
        if size is None:
            report.add(_rel(image_path, root), IMAGE_UNREADABLE, "cannot decode the image file")
            continue
        w, h = size
        objects = []
        for cls, cx, cy, bw, bh in rows:
            try:
                cid = int(cls)
            except ValueError:
                cid = -1
            if not 0 <= cid < len(names) or names[cid] is None:
                report.add(rel, UNKNOWN_CLASS, f"class id {cls} (names has {len(names)}"
                                               + (", not this one)" if 0 <= cid < len(names) else ")"))
                continue
            # YOLO centre/size (normalised) -> corners in pixels (seed 002's first step).
            objects.append((names[cid], (cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
        s = check.sample(rel, image_path, objects, had_objects=bool(rows))
        if s is not None:
            samples.append(s)
    seen = check.seen | ({n for n in names if n is not None} if classes is None else set())
    return samples, report, seen


# ------------------------------------------------------------------ CSV

def _csv_dialect(first_line: str) -> str:
    """The field separator: ',' as written by most tools; ';' (Excel in many locales) or a tab
    (Excel's "Unicode text") when the header holds no comma."""
    if "," in first_line:
        return ","
    return ";" if first_line.count(";") >= first_line.count("\t") else "\t"


def _read_csv_file(path: Path, rel: str, report: DataReport, per_image: dict[str, list],
                   origin: dict[str, str]) -> None:
    """Rows of one CSV into ``per_image``; problems of this file reported under ``rel``."""
    try:
        text = read_text(path, report, rel)
    except OSError as error:
        report.add(rel, BAD_ANNOTATION, f"cannot read the file: {error.strerror or error}")
        return
    delimiter = _csv_dialect(text.split("\n", 1)[0])
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[str, tuple]] = []
    try:
        header = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in CSV_COLUMNS[:8] if c not in header]
        if missing:
            report.add(rel, BAD_ANNOTATION, f"columns {missing} missing; the header must be "
                                            f"{','.join(CSV_COLUMNS)}")
            return
        for row in reader:
            n = reader.line_num
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            fname = row["filename"]
            try:
                box = tuple(float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
            except ValueError:
                report.add(f"{rel}:{n}", BAD_ANNOTATION, "a coordinate is not a number")
                continue
            rows.append((fname, (row["class"], *box)))
    except csv.Error as error:
        # What follows cannot be trusted (e.g. a quote never closed): keep the rows read so far.
        report.add(rel, BAD_ANNOTATION, f"line {reader.line_num}: {error}; the rest of the file is left out")
    for fname, obj in rows:
        per_image.setdefault(fname, []).append(obj)
        origin.setdefault(fname, rel)


def _csv_image(name: str, csv_dir: Path, base: Path) -> tuple[Path | None, bool]:
    """Where a CSV row's image ``name`` is: (path, True) when found next to the CSV, in ``csv_dir/images``
    or, failing those, in the ``images/`` folder beside ``csv_dir`` (``data/*.csv`` + ``images/``, as
    the raccoon set and many exports are laid out); (None, True) when it is in none of them;
    (None, False) when ``name`` climbs out of every place it may be in. A name found in the sibling
    folder must stay inside that folder, so nothing else outside the dataset folder is read."""
    image, ok = _image_candidates(name, [csv_dir, csv_dir / "images"], base)
    if ok and image is not None and image.is_file():
        return image, True
    sibling = csv_dir.parent / "images"
    other, other_ok = _image_candidates(name, [sibling], sibling)
    if other_ok and other is not None and other.is_file():
        return other, True
    return None, ok or other_ok


def _csv_missing_detail(name: str, csv_dir: Path) -> str:
    return (f"no image {name} next to the CSV ({csv_dir} or {csv_dir / 'images'}) nor in the images "
            f"folder beside it ({csv_dir.parent / 'images'}); put the image in one of them or fix the "
            "filename column")


def _load_csv_files(root: Path, files: list[Path], classes: list[str] | None, *, base: Path | None = None
                    ) -> tuple[list[Sample], DataReport, set[str]]:
    base = base or root
    report = DataReport()
    check = _Checker(report, classes)
    per_image: dict[str, list] = {}
    origin: dict[str, str] = {}
    for path in files:
        _read_csv_file(path, _rel(path, base), report, per_image, origin)
    samples = []
    for fname, objects in sorted(per_image.items()):
        where = f"{origin[fname]} ({fname})"
        image, ok = _csv_image(fname, root, base)
        if not ok:
            report.add(where, PATH_OUTSIDE, _outside_detail(fname, base))
            continue
        if image is None:
            report.add(where, ANNOTATION_WITHOUT_IMAGE, _csv_missing_detail(fname, root))
            continue
        s = check.sample(where, image, objects)
        if s is not None:
            samples.append(s)
    return samples, report, check.seen


def _load_csv(root: Path, classes: list[str] | None, *, base: Path | None = None
              ) -> tuple[list[Sample], DataReport, set[str]]:
    files = sorted(root.glob("*.csv"))
    if not files:
        below = sorted({f.parent for f in root.glob("*/*.csv")})
        fix = ("point --data at the folder that holds the CSVs: " + ", ".join(map(str, below))) if below else None
        raise BuildError(f"{root} holds no .csv file", expected="a CSV with columns " + ",".join(CSV_COLUMNS),
                         fix=fix)
    return _load_csv_files(root, files, classes, base=base)


_LOADERS = {"voc": _load_voc, "yolo": _load_yolo, "csv": _load_csv}


# ------------------------------------------------------------------ public API

def _check_args(root: Path, fmt: str) -> Path:
    root = Path(root)
    if fmt not in FORMATS:
        raise BuildError(f"unknown dataset format {fmt!r}", expected=" or ".join(FORMATS))
    if not root.is_dir():
        raise BuildError(f"dataset folder {root} does not exist", fix="point --data at the dataset folder")
    return root


def _finish(samples, report, seen, classes) -> Dataset:
    class_names = list(classes) if classes is not None else sorted(seen)
    return Dataset(samples, class_names, report)


def load_dataset(root: Path, fmt: str, classes: list[str] | None = None) -> Dataset:
    """Load every annotated image under ``root`` (no split). ``classes``: fixed class list, others reported."""
    root = _check_args(root, fmt)
    samples, report, seen = _LOADERS[fmt](root, classes)
    return _finish(samples, report, seen, classes)


VAL_NAMES = ("val", "valid", "validation", "test")


def _given_split(root: Path, fmt: str) -> tuple[str, list, list] | None:
    """('folders', train_dir, val_dir) / ('csv', train_files, val_files), or None when no split is given."""
    train_dir = root / "train"
    val_dir = next((root / n for n in VAL_NAMES if (root / n).is_dir()), None)
    if train_dir.is_dir() and val_dir is not None:
        return ("folders", [train_dir], [val_dir])
    if fmt == "yolo" and (root / "images" / "train").is_dir():
        val = next((n for n in VAL_NAMES if (root / "images" / n).is_dir()), None)
        if val is not None:
            return ("yolo-sub", ["train"], [val])
    if fmt == "csv":
        files = sorted(root.glob("*.csv"))
        train = [f for f in files if f.stem.lower().startswith("train")]
        val = [f for f in files if f.stem.lower().startswith(VAL_NAMES)]
        if train and val:
            return ("csv", train, val)
    return None


def load_split(root: Path, fmt: str, classes: list[str] | None = None, *, val_fraction: float = 0.2,
               seed: int = 0) -> tuple[Dataset, Dataset, str]:
    """(train, val, how): the given split when the folder has one, else a seeded split of everything."""
    root = _check_args(root, fmt)
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
    names = list(classes) if classes is not None else sorted(seen)
    report = r1[1].merge(r2[1])
    how = f"given split: {len(r1[0])} train / {len(r2[0])} validation"
    return Dataset(r1[0], names, report), Dataset(r2[0], names, DataReport()), how


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
