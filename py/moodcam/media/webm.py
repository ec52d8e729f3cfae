"""WebM and Matroska demuxing, streamed cluster by cluster.

EBML (RFC 8794): every element is an ID (a variable-length integer keeping its marker bits, 1-4
bytes) then a size (a variable-length integer, 1-8 bytes; all value bits set means "unknown",
as MediaRecorder writes its Segment and Clusters). Matroska (RFC 9559) elements read here:
EBML header 0x1A45DFA3 (DocType 0x4282: "webm" or "matroska"); Segment 0x18538067; in it
Info 0x1549A966 (TimecodeScale 0x2AD7B1, default 1,000,000 ns; Duration 0x4489, a float in
TimecodeScale units), Tracks 0x1654AE6B (TrackEntry 0xAE: TrackNumber 0xD7, TrackType 0x83 where 1
is video, CodecID 0x86, CodecPrivate 0x63A2, DefaultDuration 0x23E383, ContentEncodings 0x6D80,
Video 0xE0 with PixelWidth 0xB0 and PixelHeight 0xBA) and Cluster 0x1F43B675 (Timecode 0xE7,
SimpleBlock 0xA3 whose flag 0x80 marks a key frame, BlockGroup 0xA0 holding Block 0xA1, a
BlockDuration 0x9B and, for a frame that is not key, ReferenceBlock 0xFB). A Cluster of unknown
size ends where the next top-level element (a Cluster, Cues...) begins. Everything else (SeekHead,
Cues, Tags, Void, other tracks' blocks) is skipped.

Why streamed: a cluster is read element by element through moodcam.media.reading's window, so
memory holds one window and one block whatever the file's length. A block's time is (cluster
Timecode + its signed 16-bit offset) * TimecodeScale, made relative to the first video block.
Laced video blocks (several frames in one block, which no common video muxer writes) are refused.
"""
from __future__ import annotations

import struct
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass

from . import codecs
from .reading import ReadAhead
from .types import Demuxed, EncodedSample, Read, UnsupportedVideo, VideoTrack

EBML, DOC_TYPE, SEGMENT = 0x1A45DFA3, 0x4282, 0x18538067
INFO, TIMECODE_SCALE, DURATION = 0x1549A966, 0x2AD7B1, 0x4489
TRACKS, TRACK_ENTRY, TRACK_NUMBER, TRACK_TYPE, CODEC_ID, CODEC_PRIVATE = 0x1654AE6B, 0xAE, 0xD7, 0x83, 0x86, 0x63A2
DEFAULT_DURATION, CONTENT_ENCODINGS, VIDEO, PIXEL_WIDTH, PIXEL_HEIGHT = 0x23E383, 0x6D80, 0xE0, 0xB0, 0xBA
CLUSTER, TIMECODE, SIMPLE_BLOCK, BLOCK_GROUP, BLOCK, BLOCK_DURATION, REFERENCE_BLOCK = (
    0x1F43B675, 0xE7, 0xA3, 0xA0, 0xA1, 0x9B, 0xFB)
# The Segment's children: one of these inside a Cluster of unknown size ends it.
TOP_LEVEL = {CLUSTER, INFO, TRACKS, 0x114D9B74, 0x1C53BB6B, 0x1254C367, 0x1043A770, 0x1941A469}
VIDEO_TRACK = 1
HEADER_MAX = 12                 # a 4-byte ID and an 8-byte size


def vint(data: bytes, at: int, keep_marker: bool = False) -> tuple[int, int, bool] | None:
    """(value, length, all value bits set) of the variable-length integer at `at`; None if cut or invalid."""
    if at >= len(data) or data[at] == 0:
        return None
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return None
    value = int.from_bytes(data[at:at + length], "big")
    bits = 7 * length
    payload = value & ((1 << bits) - 1)
    return (value if keep_marker else payload), length, payload == (1 << bits) - 1


def header(data: bytes, at: int) -> tuple[int, int, int | None] | None:
    """(ID, header length, size or None when unknown) of the element at `at`; None if cut short."""
    element_id = vint(data, at, keep_marker=True)
    if element_id is None:
        return None
    size = vint(data, at + element_id[1])
    if size is None:
        return None
    return element_id[0], element_id[1] + size[1], None if size[2] else size[0]


def children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(ID, payload start, payload end) of each element inside an in-memory master element."""
    at = start
    while at < end:
        found = header(data, at)
        if found is None or found[2] is None or at + found[1] + found[2] > end:
            return
        yield found[0], at + found[1], at + found[1] + found[2]
        at += found[1] + found[2]


def uint(data: bytes) -> int:
    return int.from_bytes(data, "big")


@dataclass(frozen=True)
class TrackEntry:
    number: int
    codec_id: str
    private: bytes | None
    width: int
    height: int
    default_duration_s: float


def video_entry(tracks: bytes) -> TrackEntry:
    for element, start, end in children(tracks, 0, len(tracks)):
        if element != TRACK_ENTRY:
            continue
        fields = {k: tracks[s:e] for k, s, e in children(tracks, start, end)}
        if uint(fields.get(TRACK_TYPE, b"")) != VIDEO_TRACK:
            continue
        if CONTENT_ENCODINGS in fields:
            raise UnsupportedVideo("a Matroska video track with compressed or encrypted frames (ContentEncodings)")
        video = fields.get(VIDEO, b"")
        sizes = {k: uint(video[s:e]) for k, s, e in children(video, 0, len(video))}
        return TrackEntry(uint(fields.get(TRACK_NUMBER, b"")), fields.get(CODEC_ID, b"").decode("latin-1").rstrip("\0"),
                          fields.get(CODEC_PRIVATE), sizes.get(PIXEL_WIDTH, 0), sizes.get(PIXEL_HEIGHT, 0),
                          uint(fields.get(DEFAULT_DURATION, b"")) / 1e9)
    raise UnsupportedVideo("no video track")


def codec_of(entry: TrackEntry, first_key_frame: bytes | None) -> tuple[str, bytes | None]:
    private = entry.private
    if entry.codec_id == "V_VP8":
        return "vp8", None
    if entry.codec_id == "V_VP9":
        from_private = codecs.vp9_from_codec_private(private) if private else None
        if from_private is None and first_key_frame is None:
            raise UnsupportedVideo("a VP9 track with no key frame")
        return from_private or codecs.vp9_from_key_frame(first_key_frame or b""), None
    needs = {"V_AV1": "av1C", "V_MPEG4/ISO/AVC": "avcC", "V_MPEGH/ISO/HEVC": "hvcC"}
    if entry.codec_id not in needs:
        raise UnsupportedVideo(f"codec {entry.codec_id or '(none)'}")
    if not private:
        raise UnsupportedVideo(f"a {entry.codec_id} track without its CodecPrivate ({needs[entry.codec_id]})")
    if entry.codec_id == "V_AV1":
        return codecs.av1(private), private
    if entry.codec_id == "V_MPEG4/ISO/AVC":
        return codecs.avc(private), private
    return codecs.hevc(private), private


@dataclass(frozen=True)
class Layout:
    """Where the clusters are and how to read their blocks."""
    first_cluster: int
    segment_end: int | None         # None: unknown size, to the end of the file
    timecode_scale_s: float
    duration_s: float | None
    entry: TrackEntry


class WebmDemuxed(Demuxed):
    def __init__(self, read: Read, size: int, layout: Layout, track: VideoTrack) -> None:
        super().__init__(track)
        self._read, self._size, self._layout = read, size, layout

    async def samples(self) -> AsyncGenerator[EncodedSample, None]:
        self.stopped_s = None
        latest, first = 0.0, None
        async for timecode, duration_s, key, data in self._blocks():
            if first is None:
                first = timecode
            time_s = (timecode - first) * self._layout.timecode_scale_s
            latest = max(latest, time_s)
            yield EncodedSample(time_s, duration_s, key, data)
        if self.stopped_s is not None:
            self.stopped_s = latest

    async def _blocks(self) -> AsyncGenerator[tuple[int, float, bool, bytes], None]:
        """(timecode in TimecodeScale units, duration_s, key, frame) of the video track's blocks;
        sets stopped_s (to any float) when the data runs out inside an element or the Segment.

        A Cluster is entered, not skipped: its children are read in the same loop as the
        Segment's, so a Cluster of unknown size simply ends where the next Cluster (or Cues...) starts.
        """
        window, layout = ReadAhead(self._read, self._size), self._layout
        end = self._size if layout.segment_end is None else layout.segment_end
        at, cluster_time = layout.first_cluster, 0
        while at < end:
            found = header(await window.take(at, HEADER_MAX), 0)
            if found is None:
                break
            element, length, size = found
            if element == CLUSTER:
                cluster_time, at = 0, at + length
                continue
            if size is None:
                raise UnsupportedVideo(f"a Matroska element 0x{element:X} of unknown size")
            payload = at + length
            if payload + size > self._size:
                break
            if element == TIMECODE:
                cluster_time = uint(await window.take(payload, size))
            elif element == SIMPLE_BLOCK:
                block = await self._simple_block(window, payload, size, cluster_time)
                if block is not None:
                    yield block
            elif element == BLOCK_GROUP:
                block = self._group(await window.take(payload, size), cluster_time)
                if block is not None:
                    yield block
            at = payload + size
        else:
            if layout.segment_end is None or self._size >= layout.segment_end:
                return
        self.stopped_s = 0.0

    async def _simple_block(self, window: ReadAhead, payload: int, size: int,
                            cluster_time: int) -> tuple[int, float, bool, bytes] | None:
        head = await window.take(payload, min(size, HEADER_MAX))
        track = vint(head, 0)
        if track is None or track[0] != self._layout.entry.number or len(head) < track[1] + 3:
            return None
        data = await window.take(payload, size)
        return self._frame(data, track[1], cluster_time, head[track[1] + 2] & 0x80 != 0, 0.0)

    def _group(self, group: bytes, cluster_time: int) -> tuple[int, float, bool, bytes] | None:
        parts = {k: (s, e) for k, s, e in children(group, 0, len(group))}
        if BLOCK not in parts:
            return None
        block = group[parts[BLOCK][0]:parts[BLOCK][1]]
        track = vint(block, 0)
        if track is None or track[0] != self._layout.entry.number or len(block) < track[1] + 3:
            return None
        duration = parts.get(BLOCK_DURATION)
        duration_s = uint(group[duration[0]:duration[1]]) * self._layout.timecode_scale_s if duration else 0.0
        return self._frame(block, track[1], cluster_time, REFERENCE_BLOCK not in parts, duration_s)

    def _frame(self, block: bytes, track_length: int, cluster_time: int, key: bool,
               duration_s: float) -> tuple[int, float, bool, bytes]:
        relative, flags = struct.unpack_from(">hB", block, track_length)
        if flags & 0x06:
            raise UnsupportedVideo("laced video blocks (several frames in one Matroska block)")
        return (cluster_time + relative, duration_s or self._layout.entry.default_duration_s, key,
                block[track_length + 3:])


async def read_master(window: ReadAhead, at: int, expected: int, name: str) -> tuple[int, int | None, bytes]:
    """(payload start, payload size or None, payload) of a known master element such as the EBML header."""
    found = header(await window.take(at, HEADER_MAX), 0)
    if found is None or found[0] != expected:
        raise UnsupportedVideo(f"a WebM/Matroska file without its {name}")
    _, length, size = found
    payload = b"" if size is None else await window.take(at + length, size)
    return at + length, size, payload


def info_fields(info: bytes) -> tuple[int, float | None]:
    """(TimecodeScale in ns, Duration in TimecodeScale units or None) from Info's payload."""
    scale, duration = 1_000_000, None
    for k, s, e in children(info, 0, len(info)):
        if k == TIMECODE_SCALE:
            scale = uint(info[s:e]) or 1_000_000
        elif k == DURATION and e - s in (4, 8):
            duration = struct.unpack(">f" if e - s == 4 else ">d", info[s:e])[0]
    return scale, duration


async def segment_layout(window: ReadAhead) -> Layout:
    """The EBML header checked, then Info and Tracks from the Segment's start up to its first Cluster."""
    start, size, doc = await read_master(window, 0, EBML, "EBML header")
    doc_types = [doc[s:e].decode("latin-1").rstrip("\0") for k, s, e in children(doc, 0, len(doc)) if k == DOC_TYPE]
    if not doc_types or doc_types[0] not in ("webm", "matroska"):
        raise UnsupportedVideo(f"an EBML file of DocType {doc_types[0] if doc_types else '(none)'}")
    at = start + (size or 0)
    found = header(await window.take(at, HEADER_MAX), 0)
    if found is None or found[0] != SEGMENT:
        raise UnsupportedVideo("a WebM/Matroska file without its Segment")
    at += found[1]
    segment_end = None if found[2] is None else at + found[2]
    scale, duration, entry = 1_000_000, None, None
    while at < (segment_end or window.size):
        child = header(await window.take(at, HEADER_MAX), 0)
        if child is None or (child[2] is None and child[0] != CLUSTER):
            break
        element, length, child_size = child
        if element == CLUSTER:
            if entry is None:
                raise UnsupportedVideo("a WebM whose Tracks come after its first Cluster")
            return Layout(at, segment_end, scale / 1e9, None if duration is None else duration * scale / 1e9, entry)
        if at + length + (child_size or 0) > window.size:
            break
        if element == INFO:
            scale, duration = info_fields(await window.take(at + length, child_size or 0))
        elif element == TRACKS:
            entry = video_entry(await window.take(at + length, child_size or 0))
        at += length + (child_size or 0)
    raise UnsupportedVideo("a WebM/Matroska file with no Cluster (no frames; it may be cut short)")


async def first_key_frame(demuxed: WebmDemuxed) -> bytes | None:
    samples = demuxed.samples()
    try:
        async for sample in samples:
            if sample.key:
                return sample.data
        return None
    finally:
        await samples.aclose()


async def open_webm(read: Read, size: int) -> WebmDemuxed:
    layout = await segment_layout(ReadAhead(read, size))
    entry = layout.entry
    demuxed = WebmDemuxed(read, size, layout, VideoTrack("webm", "", None, entry.width, entry.height, layout.duration_s))
    needs_frame = entry.codec_id == "V_VP9" and not (entry.private and codecs.vp9_from_codec_private(entry.private))
    codec, description = codec_of(entry, await first_key_frame(demuxed) if needs_frame else None)
    demuxed.track = VideoTrack("webm", codec, description, entry.width, entry.height, layout.duration_s)
    demuxed.stopped_s = None
    return demuxed
