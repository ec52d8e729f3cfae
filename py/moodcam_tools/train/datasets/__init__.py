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

Hostile files are refused before they cost memory or time, each reported like any bad file: a
class name must be text of 1 to MAX_CLASS_NAME_CHARS printable characters (an object with another
is skipped; a names file with one is unusable); a data.yaml with an alias (``*a``) or nested more
than MAX_YAML_DEPTH deep, or a names file over MAX_NAMES_FILE_BYTES, is unusable; a VOC XML with a
``<!DOCTYPE`` (whose entities could expand) or over MAX_XML_BYTES is skipped.

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

The package, one job a module: ``common`` (the Sample/Dataset form, the report and its
reasons, the checks every box passes), ``text`` (decoding text files), ``images``
(decoding images, the cache training reads through), one loader a format (``voc``,
``yolo``, ``csv_format``), and ``load`` (load a folder whole or split). Import from
the package: ``from moodcam_tools.train.datasets import load_split``.
"""
from __future__ import annotations

from .common import (ANNOTATION_WITHOUT_IMAGE, BAD_ANNOTATION, BOX_OUTSIDE, EDGE_TOLERANCE_PX, FORMATS, IMAGE_EXTS,
                     IMAGE_UNREADABLE, MAX_CLASS_NAME_CHARS, NO_VALID_BOX, PATH_OUTSIDE, REASONS, UNKNOWN_CLASS,
                     ZERO_AREA, DataReport, Dataset, Problem, Sample, class_name_problem)
from .csv_format import CSV_COLUMNS
from .images import DEFAULT_IMAGE_CACHE_MB, ImageCache, read_image
from .load import VAL_NAMES, has_given_split, load_dataset, load_split, require_samples, split_samples
from .text import FALLBACK_ENCODINGS, decode_text, read_text
from .voc import MAX_XML_BYTES
from .yolo import MAX_CLASS_ID, MAX_NAMES_FILE_BYTES, MAX_YAML_DEPTH, NAMES_FILES
from .yolo import _names_from_yaml as _names_from_yaml   # re-exported for its tests, as when this was one module

__all__ = [
    "FORMATS", "REASONS", "Sample", "Problem", "DataReport", "Dataset", "load_dataset", "load_split",
    "has_given_split",
    "split_samples", "require_samples", "read_image", "read_text", "decode_text", "ImageCache",
    "DEFAULT_IMAGE_CACHE_MB",
    # the reasons one by one, and the formats' constants
    "ANNOTATION_WITHOUT_IMAGE", "IMAGE_UNREADABLE", "BOX_OUTSIDE", "ZERO_AREA", "UNKNOWN_CLASS", "BAD_ANNOTATION",
    "NO_VALID_BOX", "PATH_OUTSIDE", "EDGE_TOLERANCE_PX", "IMAGE_EXTS", "CSV_COLUMNS", "VAL_NAMES",
    "FALLBACK_ENCODINGS", "MAX_CLASS_ID", "NAMES_FILES",
    # the limits hostile files meet
    "MAX_CLASS_NAME_CHARS", "MAX_NAMES_FILE_BYTES", "MAX_YAML_DEPTH", "MAX_XML_BYTES", "class_name_problem",
]

