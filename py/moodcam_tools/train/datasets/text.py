"""Text files of a dataset decoded as their authors meant: a byte-order mark decides, else UTF-8,
else the Windows and Latin-1 fallbacks, and a fallback is noted in the load's report.
"""
from __future__ import annotations

import codecs
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .common import DataReport

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


def _size_text(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n / 1024:g} KiB"


def read_bytes_limited(path: Path, max_bytes: int | None) -> bytes:
    """The file's bytes; ValueError, naming the limit, when it holds more than ``max_bytes`` (None: no
    limit). Reads at most one byte past the limit, so a huge file costs nothing to refuse."""
    with open(path, "rb") as f:
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise ValueError(f"the file is larger than {_size_text(max_bytes)}, far more than this kind of file "
                         "needs; check it is the right file, or cut it down")
    return data


def read_text(path: Path, report: "DataReport | None" = None, name: str | None = None, *,
              max_bytes: int | None = None) -> str:
    """A text file decoded by :func:`decode_text`; a fallback encoding is noted in ``report``. A file
    over ``max_bytes`` raises ValueError (:func:`read_bytes_limited`)."""
    text, encoding = decode_text(read_bytes_limited(Path(path), max_bytes))
    if report is not None and encoding not in ("utf-8", "utf-8-sig", "utf-16"):
        report.note(name or path, _fallback_note(encoding))
    return text
