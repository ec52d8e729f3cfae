"""Zip files stored, not deflated: the same members, byte for byte, in a form brotli can shrink.

Pyodide's runtime and wheels are zip files whose members are each deflated on their own, so a
transfer encoding finds nothing more to take out of them (python_stdlib.zip 2.36 MB on the
wire either way). Stored (uncompressed), the same members compress as one stream: brotli
quality 11 sends python_stdlib.zip as 1.49 MB and numpy's wheel as 1.95 MB instead of 3.06 MB,
and unpacking them in the browser inflates nothing. The precompressed copies (site.compress)
carry the savings; a host that sends neither those nor compresses on the fly sends the stored
sizes (docs/deploying.md, "Bytes on a first visit").
"""
from __future__ import annotations

import io
import zipfile


def write_stored(target: zipfile.ZipFile, like: zipfile.ZipInfo, name: str, data: bytes) -> None:
    """Write `data` as member `name`, stored, with `like`'s date and attributes."""
    copy = zipfile.ZipInfo(name, date_time=like.date_time)
    copy.external_attr = like.external_attr
    copy.create_system = like.create_system
    copy.compress_type = zipfile.ZIP_STORED
    target.writestr(copy, data)


def stored_copy(data: bytes) -> bytes:
    """The same zip, every member stored: names, order, dates, attributes and bytes kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            write_stored(target, info, info.filename, source.read(info))
    return out.getvalue()


def same_members(a: bytes, b: bytes) -> bool:
    """True when two zips hold the same member names, in order, with the same bytes."""
    with zipfile.ZipFile(io.BytesIO(a)) as za, zipfile.ZipFile(io.BytesIO(b)) as zb:
        names = [i.filename for i in za.infolist()]
        if names != [i.filename for i in zb.infolist()]:
            return False
        return all(za.read(n) == zb.read(n) for n in names)
