"""Pascal VOC XML (LabelImg, seed 003): ``*.xml`` anywhere under the folder, each naming its image."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .common import (BAD_ANNOTATION, PATH_OUTSIDE, DataReport, Sample, _Checker, _image_candidates, _outside_detail,
                     _rel)
from .text import FALLBACK_ENCODINGS, _fallback_note, decode_text, read_bytes_limited

# LabelImg writes a few KB an image (~300 bytes an object): 4 MiB is over 10,000 objects, and parses
# in about half a second into at most ~200 MB, however the elements are nested.
MAX_XML_BYTES = 4 << 20


def _voc_float(node, tag: str) -> float:
    text = node.findtext(tag)
    if text is None:
        raise ValueError(f"<{tag}> missing")
    return float(text.strip())


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([^\"']*)[\"']")


class _DoctypeRefused(ValueError):
    pass


class _NoDoctypeBuilder(ET.TreeBuilder):
    """Refuses a document type declaration as soon as it starts, before its internal subset is read.

    VOC annotations have none, and its entities are how a few hundred bytes expand into megabytes
    (the "billion laughs": expat stops only at 8 MiB and 100x amplification). Without a DTD only the
    five predefined entities and character references exist, so nothing can expand.
    """

    def doctype(self, name, pubid, system):
        raise _DoctypeRefused("the file declares a document type (<!DOCTYPE ...>), which VOC annotations "
                              "never have and whose entities could expand without bound; remove that "
                              "declaration")


def _fromstring(source: bytes | str) -> ET.Element:
    parser = ET.XMLParser(target=_NoDoctypeBuilder())
    parser.feed(source)
    return parser.close()


def _parse_xml(path: Path, report: DataReport, rel: str) -> ET.Element:
    """The XML's root: its own encoding declaration first; when that fails (an unknown or wrong encoding,
    a file that is not UTF-8), the text as :func:`decode_text` reads it. Raises ET.ParseError, or
    ValueError for a file over MAX_XML_BYTES or one with a DTD."""
    data = read_bytes_limited(path, MAX_XML_BYTES)
    try:
        return _fromstring(data)
    except _DoctypeRefused:
        raise
    except (ET.ParseError, LookupError, ValueError) as error:
        first = error
    text, encoding = decode_text(data)
    try:
        root = _fromstring(_XML_DECLARATION.sub("", text, count=1))
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
    for xml_path in sorted(root.rglob("*.xml")):
        rel = _rel(xml_path, base)
        try:
            tree = _parse_xml(xml_path, report, rel)
            filename = (tree.findtext("filename") or "").strip()
            if not filename:
                raise ValueError("<filename> missing")
            objects: list[tuple[str, float, float, float, float]] = []
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
        image = _image_candidates(filename, [xml_path.parent, root, root / "JPEGImages", root / "images",
                                             xml_path.parent.parent / "JPEGImages"], base)
        if image is None:
            report.add(rel, PATH_OUTSIDE, _outside_detail(filename, base))
            continue
        check.add(rel, image, objects)
    return check.samples, report, check.seen
