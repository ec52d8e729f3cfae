"""MP4 and QuickTime MOV (ISO/IEC 14496-12, ISO base media file format; non-fragmented) demuxing.

The file is a sequence of top-level boxes (4.2: 32-bit size, or 1 then a 64-bit size, or 0 for
"to the end of the file"); `ftyp`, `mdat` and `moov` may come in any order (moov at the end unless
the file was written with +faststart), so the top level is walked header by header. In `moov`,
the first `trak` whose `mdia/hdlr` handler is 'vide' is the video: `tkhd` and `mvhd` (its
duration), `mdhd` (timescale), `edts/elst` (8.6.6: the first non-empty edit's media_time is the
composition time shown at 0, which makes a B-frame stream's first frame ~0 as <video> shows it;
empty edits, a delay before the track, are not kept) and `stbl`: `stsd` (the sample entry: avc1/avc3
+ avcC, hvc1/hev1 + hvcC, vp09 + vpcC, av01 + av1C; its width and height), `stts` (decode time
deltas), `ctts` (composition offsets, read signed in both versions as writers use them), `stsc`
(samples per chunk), `stco`/`co64` (chunk offsets), `stsz` (sizes, or one for all), `stss` (key
samples; absent: all are key).

Why this shape: the sample table stays as the file's own run-length arrays (module `array`, a few
bytes a sample, never one object a sample), expanded one sample at a time while the bytes are read
in file order through moodcam.media.reading's window. Samples come in decode order, the order
VideoDecoder needs. Movie fragments (`mvex`, `moof`) are refused: their tables live in the
fragments, which this reader does not walk.
"""
from __future__ import annotations

import sys
from array import array
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from itertools import chain, repeat

from . import codecs
from .reading import ReadAhead
from .types import Demuxed, EncodedSample, Read, UnsupportedVideo, VideoTrack

FRAGMENTED = "a fragmented MP4 (movie fragments: mvex/moof boxes, as MediaRecorder and DASH packagers write)"
CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl", "edts"}
VIDEO_ENTRIES = {"avc1", "avc3", "hvc1", "hev1", "vp09", "av01"}
VISUAL_ENTRY_FIELDS = 78      # bytes of a VisualSampleEntry (8.5.2.2) before its child boxes


def be_array(typecode: str, data: bytes) -> array:
    """Big-endian integers as a native array (the module reads native order)."""
    values = array(typecode)
    usable = len(data) - len(data) % values.itemsize
    values.frombytes(data[:usable])
    if sys.byteorder == "little":
        values.byteswap()
    return values


def child_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    """(type, payload start, payload end) of each box inside data[start:end]."""
    at = start
    while at + 8 <= end:
        size = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8].decode("latin-1")
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[at + 8:at + 16], "big"), 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def find(data: bytes, start: int, end: int, path: str) -> tuple[int, int] | None:
    """The payload range of the first box at the '/'-separated path, or None."""
    first, _, rest = path.partition("/")
    for kind, s, e in child_boxes(data, start, end):
        if kind == first:
            return (s, e) if not rest else find(data, s, e, rest)
    return None


@dataclass
class SampleTable:
    timescale: int
    media_time: int                 # composition time shown at 0 (the edit list's)
    count: int
    constant_size: int
    sizes: array                    # empty when every sample has constant_size
    chunk_offsets: array
    chunk_runs: array               # stsc as (first_chunk, samples_per_chunk, description) triples
    time_counts: array
    time_deltas: array
    offset_counts: array
    offsets: array                  # signed composition offsets; empty when there is no ctts
    sync: array | None              # 1-based key sample numbers; None: all are key

    def layout(self) -> Iterator[tuple[int, int, float, float, bool]]:
        """(file offset, size, time_s, duration_s, key) of each sample, in decode order."""
        sizes = iter(self.sizes) if self.sizes else repeat(self.constant_size, self.count)
        deltas = chain.from_iterable(map(repeat, self.time_deltas, self.time_counts))
        offsets = chain.from_iterable(map(repeat, self.offsets, self.offset_counts)) if self.offsets else repeat(0)
        sync = iter(self.sync) if self.sync is not None else None
        next_key = next(sync, 0) if sync is not None else 0
        scale, shift = 1.0 / self.timescale, self.media_time
        runs = self.chunk_runs
        n_runs, n_chunks = len(runs) // 3, len(self.chunk_offsets)
        number, dts = 0, 0
        for run in range(n_runs):
            per_chunk = runs[3 * run + 1]
            last = runs[3 * run + 3] - 1 if run + 1 < n_runs else n_chunks
            for chunk in range(runs[3 * run] - 1, min(last, n_chunks)):
                position = self.chunk_offsets[chunk]
                for _ in range(per_chunk):
                    if number == self.count:
                        return
                    number += 1
                    size, delta = next(sizes), next(deltas, 0)
                    if sync is None:
                        key = True
                    else:
                        key = number == next_key
                        if key:
                            next_key = next(sync, 0)
                    yield position, size, (dts + next(offsets, 0) - shift) * scale, delta * scale, key
                    position += size
                    dts += delta


def duration_of(data: bytes, box: tuple[int, int] | None, v0_at: int, v1_at: int) -> int:
    """A (m|t)hd box's duration field: 32-bit at v0_at in version 0, 64-bit at v1_at in version 1."""
    if box is None:
        return 0
    if data[box[0]] == 1:
        value = int.from_bytes(data[box[0] + v1_at:box[0] + v1_at + 8], "big")
        return 0 if value == (1 << 64) - 1 else value
    value = int.from_bytes(data[box[0] + v0_at:box[0] + v0_at + 4], "big")
    return 0 if value == (1 << 32) - 1 else value


def rotation_of(data: bytes, tkhd: tuple[int, int] | None) -> int:
    """Degrees clockwise (0, 90, 180, 270) of tkhd's display matrix (8.3.2: a, b, u, c, d, v, x, y, w;
    a point (p, q) is shown at (a*p + c*q, b*p + d*q), y down, so (a, b) is where "right" goes);
    0 for a matrix that is not a quarter turn (a flip or a shear: shown unturned)."""
    if tkhd is None:
        return 0
    at = tkhd[0] + (52 if data[tkhd[0]] == 1 else 40)
    if at + 20 > tkhd[1]:
        return 0
    a, b, _u, c, d = (int.from_bytes(data[at + 4 * k:at + 4 * k + 4], "big", signed=True) for k in range(5))
    one = 1 << 16
    turns = {(one, 0, 0, one): 0, (0, one, -one, 0): 90, (-one, 0, 0, -one): 180, (0, -one, one, 0): 270}
    return turns.get((a, b, c, d), 0)


def timescale_of(data: bytes, box: tuple[int, int]) -> int:
    at = box[0] + (20 if data[box[0]] == 1 else 12)
    return int.from_bytes(data[at:at + 4], "big")


def edit_media_time(data: bytes, elst: tuple[int, int] | None) -> int:
    """The first non-empty edit's media_time (-1 marks an empty edit), 0 without an edit list."""
    if elst is None:
        return 0
    start, end = elst
    wide = data[start] == 1
    entry, field = (20, 8) if wide else (12, 4)
    count = int.from_bytes(data[start + 4:start + 8], "big")
    for i in range(count):
        at = start + 8 + i * entry + field
        if at + field > end:
            break
        media_time = int.from_bytes(data[at:at + field], "big", signed=True)
        if media_time != -1:
            return media_time
    return 0


def sample_entry(data: bytes, stsd: tuple[int, int]) -> tuple[str, int, int, dict[str, bytes]]:
    """The first sample entry's type, width, height and child boxes (avcC, hvcC, ...)."""
    entries = list(child_boxes(data, stsd[0] + 8, stsd[1]))
    if not entries:
        raise UnsupportedVideo("a video track with no sample description")
    kind, start, end = entries[0]
    if kind == "encv":
        raise UnsupportedVideo("encrypted video (encv)")
    if kind not in VIDEO_ENTRIES:
        raise UnsupportedVideo(f"codec {kind.strip()}")
    width = int.from_bytes(data[start + 24:start + 26], "big")
    height = int.from_bytes(data[start + 26:start + 28], "big")
    children = {k: bytes(data[s:e]) for k, s, e in child_boxes(data, start + VISUAL_ENTRY_FIELDS, end)}
    return kind, width, height, children


def codec_of(kind: str, children: dict[str, bytes]) -> tuple[str, bytes | None]:
    record = {"avc1": "avcC", "avc3": "avcC", "hvc1": "hvcC", "hev1": "hvcC", "vp09": "vpcC", "av01": "av1C"}[kind]
    if record not in children:
        raise UnsupportedVideo(f"a {kind} track without its {record} record")
    payload = children[record]
    if record == "avcC":
        return codecs.avc(payload, kind), payload
    if record == "hvcC":
        return codecs.hevc(payload, kind), payload
    if record == "vpcC":
        return codecs.vp9_from_vpcc(payload), None
    return codecs.av1(payload), payload


def video_trak(moov: bytes) -> tuple[int, int]:
    boxes = list(child_boxes(moov, 0, len(moov)))
    if any(kind == "mvex" for kind, _, _ in boxes):       # ffmpeg writes it after the traks
        raise UnsupportedVideo(FRAGMENTED)
    for kind, start, end in boxes:
        hdlr = find(moov, start, end, "mdia/hdlr") if kind == "trak" else None
        if hdlr is not None and moov[hdlr[0] + 8:hdlr[0] + 12] == b"vide":
            return start, end
    raise UnsupportedVideo("no video track")


def table_box(moov: bytes, stbl: tuple[int, int], name: str, skip: int) -> bytes | None:
    """A stbl child's payload after its FullBox header and `skip` more bytes, or None when absent."""
    box = find(moov, stbl[0], stbl[1], name)
    return None if box is None else moov[box[0] + 4 + skip:box[1]]


def sample_table(moov: bytes, stbl: tuple[int, int], timescale: int, media_time: int) -> SampleTable:
    stts = table_box(moov, stbl, "stts", 4)
    stsc = table_box(moov, stbl, "stsc", 4)
    stsz = table_box(moov, stbl, "stsz", 0)
    stco, co64 = table_box(moov, stbl, "stco", 4), table_box(moov, stbl, "co64", 4)
    if stts is None or stsc is None or stsz is None or (stco is None and co64 is None):
        raise UnsupportedVideo("an MP4 video track without its sample table (stts, stsc, stsz, stco)")
    times = be_array("I", stts)
    constant_size, count = int.from_bytes(stsz[0:4], "big"), int.from_bytes(stsz[4:8], "big")
    sizes = be_array("I", stsz[8:8 + 4 * count]) if constant_size == 0 else array("I")
    ctts = table_box(moov, stbl, "ctts", 4)
    composition = be_array("i", ctts) if ctts is not None else array("i")
    stss = table_box(moov, stbl, "stss", 4)
    if count == 0:
        raise UnsupportedVideo("a video track with no samples (the file holds no frames)")
    return SampleTable(
        timescale=timescale, media_time=media_time, count=count, constant_size=constant_size, sizes=sizes,
        chunk_offsets=be_array("Q", co64) if co64 is not None else be_array("I", stco or b""),
        chunk_runs=be_array("I", stsc), time_counts=times[0::2], time_deltas=times[1::2],
        offset_counts=array("I", composition[0::2]), offsets=composition[1::2],
        sync=be_array("I", stss) if stss is not None else None)


def parse_moov(moov: bytes) -> tuple[VideoTrack, SampleTable]:
    trak = video_trak(moov)
    mdhd = find(moov, trak[0], trak[1], "mdia/mdhd")
    stbl = find(moov, trak[0], trak[1], "mdia/minf/stbl")
    stsd = find(moov, stbl[0], stbl[1], "stsd") if stbl else None
    if mdhd is None or stbl is None or stsd is None:
        raise UnsupportedVideo("an MP4 video track without its media header or sample table")
    kind, width, height, children = sample_entry(moov, stsd)
    codec, description = codec_of(kind, children)
    timescale = timescale_of(moov, mdhd)
    if timescale == 0:
        raise UnsupportedVideo("an MP4 video track whose timescale is 0")
    mvhd = find(moov, 0, len(moov), "mvhd")
    movie_scale = timescale_of(moov, mvhd) if mvhd else 0
    tkhd = find(moov, trak[0], trak[1], "tkhd")
    track_duration = duration_of(moov, tkhd, 20, 28)
    media_duration = duration_of(moov, mdhd, 16, 24)
    duration_s = (track_duration / movie_scale if track_duration and movie_scale
                  else media_duration / timescale if media_duration else None)
    media_time = edit_media_time(moov, find(moov, trak[0], trak[1], "edts/elst"))
    track = VideoTrack("mp4", codec, description, width, height, duration_s, rotation_of(moov, tkhd))
    return track, sample_table(moov, stbl, timescale, media_time)


async def top_level_moov(window: ReadAhead) -> bytes:
    """The moov box's payload, found by walking the top-level box headers (it may follow mdat)."""
    at = 0
    while at + 8 <= window.size:
        header = await window.take(at, 16)
        if len(header) < 8:
            break
        size, kind = int.from_bytes(header[0:4], "big"), header[4:8]
        length = 8
        if size == 1 and len(header) == 16:
            size, length = int.from_bytes(header[8:16], "big"), 16
        elif size == 0:
            size = window.size - at
        if kind == b"moof":
            raise UnsupportedVideo(FRAGMENTED)
        if kind == b"moov":
            moov = await window.take(at + length, size - length)
            if len(moov) < size - length:
                break
            return moov
        if size < length:
            break
        at += size
    raise UnsupportedVideo("an MP4 without its index (no complete moov box: the file may be cut short)")


class Mp4Demuxed(Demuxed):
    def __init__(self, read: Read, size: int, track: VideoTrack, table: SampleTable) -> None:
        super().__init__(track)
        self._read, self._size, self._table = read, size, table

    async def samples(self) -> AsyncGenerator[EncodedSample, None]:
        self.stopped_s = None
        window = ReadAhead(self._read, self._size)
        latest = 0.0
        for offset, size, time_s, duration_s, key in self._table.layout():
            data = await window.take(offset, size)
            if len(data) < size:
                self.stopped_s = latest
                return
            latest = max(latest, time_s)
            yield EncodedSample(time_s, duration_s, key, data)


async def open_mp4(read: Read, size: int) -> Mp4Demuxed:
    moov = await top_level_moov(ReadAhead(read, size))
    track, table = parse_moov(moov)
    return Mp4Demuxed(read, size, track, table)
