"""The 9-column CSV (seed 003): one row a box, ``filename,width,height,class,xmin,ymin,xmax,ymax,source``,
the images next to the CSV, in its ``images/`` or in the ``images/`` folder beside it.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ...errors import BuildError
from .common import (ANNOTATION_WITHOUT_IMAGE, BAD_ANNOTATION, PATH_OUTSIDE, DataReport, Sample, _Checker,
                     _image_candidates, _outside_detail, _rel)
from .text import read_text

CSV_COLUMNS = ["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax", "source"]


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
    image = _image_candidates(name, [csv_dir, csv_dir / "images"], base)
    if image is not None and image.is_file():
        return image, True
    sibling = csv_dir.parent / "images"
    other = _image_candidates(name, [sibling], sibling)
    if other is not None and other.is_file():
        return other, True
    return None, image is not None or other is not None


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
    for fname, objects in sorted(per_image.items()):
        where = f"{origin[fname]} ({fname})"
        image, ok = _csv_image(fname, root, base)
        if not ok:
            report.add(where, PATH_OUTSIDE, _outside_detail(fname, base))
            continue
        if image is None:
            report.add(where, ANNOTATION_WITHOUT_IMAGE, _csv_missing_detail(fname, root))
            continue
        check.add(where, image, objects)
    return check.samples, report, check.seen


def _load_csv(root: Path, classes: list[str] | None, *, base: Path | None = None
              ) -> tuple[list[Sample], DataReport, set[str]]:
    files = sorted(root.glob("*.csv"))
    if not files:
        below = sorted({f.parent for f in root.glob("*/*.csv")})
        fix = ("point --data at the folder that holds the CSVs: " + ", ".join(map(str, below))) if below else None
        raise BuildError(f"{root} holds no .csv file", expected="a CSV with columns " + ",".join(CSV_COLUMNS),
                         fix=fix)
    return _load_csv_files(root, files, classes, base=base)
