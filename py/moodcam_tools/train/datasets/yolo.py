"""YOLO txt (seed 002): ``images/`` and ``labels/`` with the same relative stems, ``class cx cy w h``
normalised, class names from classes.txt or data.yaml.
"""
from __future__ import annotations

from pathlib import Path

from ...errors import BuildError
from .common import (ANNOTATION_WITHOUT_IMAGE, BAD_ANNOTATION, IMAGE_EXTS, IMAGE_UNREADABLE, MAX_CLASS_NAME_CHARS,
                     UNKNOWN_CLASS, DataReport, Sample, _Checker, _rel, _shown, class_name_problem)
from .images import _image_size
from .text import read_text

NAMES_FILES = ("classes.txt", "data.yaml", "dataset.yaml")
MAX_CLASS_ID = 10_000            # an {id: name} mapping is turned into a list indexed by id
# classes.txt / data.yaml hold names, and perhaps a download script: MAX_CLASS_ID names of
# MAX_CLASS_NAME_CHARS characters fit in 1 MiB.
MAX_NAMES_FILE_BYTES = 1 << 20
# A data.yaml is a mapping with `names:` one level down: the names themselves are 3 levels deep.
MAX_YAML_DEPTH = 20


def _yaml_loader():
    """A yaml.SafeLoader that refuses what a data.yaml never needs and an attacker uses.

    Aliases (``*a``) are refused: nine lines of them repeat one list 9**8 times, which ``str()``
    then spells out (a 226 MB class name). Nesting deeper than MAX_YAML_DEPTH is refused as soon as it
    is reached: PyYAML composes nodes recursively, so 5,000 levels end in RecursionError.
    Built on first use so that importing the loaders does not import yaml.
    """
    import yaml

    class DataYamlLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent, index):
            event = self.peek_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                raise ValueError(f"line {line}: the alias *{_shown(event.anchor)} repeats another part of the "
                                 "file, which data.yaml files do not need and which can expand without bound; "
                                 "write the names out in full")
            if self.depth >= MAX_YAML_DEPTH:
                raise ValueError(f"line {line}: nested more than {MAX_YAML_DEPTH} levels deep; `names:` needs "
                                 "one level (a list or an {id: name} mapping)")
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return DataYamlLoader


def _check_count(n: int) -> None:
    if n > MAX_CLASS_ID:
        raise ValueError(f"{n} class names, more than the {MAX_CLASS_ID} a detector here can have; "
                         "check it is the right file")


def _checked_name(value: object, cid: int, *, in_yaml: bool = True) -> str | None:
    """A names entry as a class name: None stays None (an id without a name), text is stripped; anything
    else raises ValueError naming the id, what is wrong and the fix."""
    if value is None:
        return None
    name = value.strip() if isinstance(value, str) else value
    problem = class_name_problem(name)
    if problem is None and isinstance(name, str):      # the second test only tells mypy what the first did
        return name
    fix = f"write each name as text of 1 to {MAX_CLASS_NAME_CHARS} characters"
    if in_yaml:
        fix += ", in quotes when YAML could read it otherwise" + (
            " (it reads yes/no/on/off as true/false and digits as numbers)"
            if isinstance(value, (bool, int, float)) else "")
    raise ValueError(f"{'names: ' if in_yaml else ''}class id {cid}: {problem}; {fix}")


def _names_from_yaml(text: str) -> list[str | None]:
    """``names:`` of a YOLO data.yaml: a list (block or inline) or an {id: name} mapping (block or inline,
    ids as numbers or quoted). Ids missing from a mapping are None. Raises ValueError when unusable,
    including aliases, deep nesting and names that are not short text (:func:`_yaml_loader`)."""
    import yaml

    try:
        data = yaml.load(text, Loader=_yaml_loader())   # a SafeLoader, stricter still
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"not valid YAML{where}: {getattr(error, 'problem', None) or error}") from None
    except RecursionError:     # the depth limit should stop it first; never let it out raw
        raise ValueError("nested too deep to read; `names:` needs one level (a list or an "
                         "{id: name} mapping)") from None
    names = data.get("names") if isinstance(data, dict) else None
    out: list[str | None]
    if isinstance(names, (list, tuple)):
        _check_count(len(names))
        out = [_checked_name(n, cid) for cid, n in enumerate(names)]
    elif isinstance(names, dict):
        items: dict[int, str | None] = {}
        for key, value in names.items():
            try:
                cid = int(str(key).strip())
            except ValueError:
                raise ValueError(f"names: key {_shown(key)} is not a class id (0, 1, ...)") from None
            if not 0 <= cid < MAX_CLASS_ID:
                raise ValueError(f"names: class id {cid} is not between 0 and {MAX_CLASS_ID - 1}")
            items[cid] = _checked_name(value, cid)
        out = [items.get(i) for i in range(max(items) + 1)] if items else []
    elif names is None:
        raise ValueError("no `names:` entry")
    else:
        raise ValueError(f"`names:` is a {type(names).__name__}, expected a list or an {{id: name}} mapping")
    if not any(out):
        raise ValueError("`names:` is empty")
    return out


def _names_from_lines(text: str) -> list[str | None]:
    """classes.txt: one name a line (line n names class id n), blank lines skipped. Raises ValueError
    for a name that is not short, printable text."""
    names = [line.strip() for line in text.splitlines() if line.strip()]
    _check_count(len(names))
    return [_checked_name(name, cid, in_yaml=False) for cid, name in enumerate(names)]


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
                text = read_text(path, report, shown, max_bytes=MAX_NAMES_FILE_BYTES)
                if fname == "classes.txt":
                    return _names_from_lines(text)
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
    for stem in sorted(set(images) | set(labels)):
        label_path = labels.get(stem)
        image_path = images.get(stem)
        if image_path is None:   # the stem is then a label file's
            report.add(_rel(labels[stem], root), ANNOTATION_WITHOUT_IMAGE, f"no image {stem}.*")
            continue
        rel = _rel(label_path, root) if label_path else _rel(image_path, root)
        rows: list[tuple[str, float, float, float, float]] = []
        if label_path is not None:
            try:
                for n, line in enumerate(read_text(label_path).splitlines(), 1):
                    parts = line.split()
                    if not parts:
                        continue
                    if len(parts) < 5:
                        raise ValueError(f"line {n}: expected 'class cx cy w h', got {line.strip()[:60]!r}")
                    cx, cy, bw, bh = (float(v) for v in parts[1:5])
                    rows.append((parts[0], cx, cy, bw, bh))
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
        objects: list[tuple[str, float, float, float, float]] = []
        for cls, cx, cy, bw, bh in rows:
            try:
                cid = int(cls)
            except ValueError:
                cid = -1
            name = names[cid] if 0 <= cid < len(names) else None
            if name is None:
                report.add(rel, UNKNOWN_CLASS, f"class id {cls} (names has {len(names)}"
                                               + (", not this one)" if 0 <= cid < len(names) else ")"))
                continue
            # YOLO centre/size (normalised) -> corners in pixels (seed 002's first step).
            objects.append((name, (cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
        check.add(rel, image_path, objects, had_objects=bool(rows))
    seen = check.seen | ({n for n in names if n is not None} if classes is None else set())
    return check.samples, report, seen
