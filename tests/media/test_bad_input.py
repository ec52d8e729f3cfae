"""Files cut short give every complete sample and say where they stopped; what cannot be demuxed
raises UnsupportedVideo naming it (the caller's cue to fall back to the <video> element)."""
from __future__ import annotations

import asyncio

import pytest

from moodcam.media import UnsupportedVideo, open_video
from tests.fixtures import videos

from .clips import demux, file_reader, make, md5, probe

# Bytes before a packet's data: none in MP4; a SimpleBlock's track number, timecode and flags in WebM.
BLOCK_HEADER = {".mp4": 0, ".webm": 4}


@pytest.mark.parametrize("name", ["stills.mp4", "h264_faststart.mp4", "vp9.webm", "stills.webm"])
def test_a_truncated_file_yields_its_complete_samples_then_says_where_it_stopped(clip_folder, name):
    source = make(clip_folder, name)
    cut = videos.truncated(source, keep=0.6)
    packets, _ = probe(source)
    complete = [p for p in packets if p.pos + BLOCK_HEADER[source.suffix] + p.size <= cut.stat().st_size]
    assert 0 < len(complete) < len(packets)
    demuxed, samples = demux(cut)
    assert [(len(s.data), s.key, md5(s.data)) for s in samples] == [(p.size, p.key, p.md5) for p in complete]
    assert demuxed.stopped_s == pytest.approx(max(p.time_s for p in complete), abs=0.001)
    assert demuxed.stopped_s < max(p.time_s for p in packets)


def test_a_second_pass_starts_again(clip_folder):
    demuxed, first = demux(videos.truncated(make(clip_folder, "vp8.webm"), keep=0.5))

    async def again():
        return [s async for s in demuxed.samples()]
    assert [s.data for s in asyncio.run(again())] == [s.data for s in first]
    assert demuxed.stopped_s is not None


def unsupported(path) -> str:
    with pytest.raises(UnsupportedVideo) as raised:
        demux(path)
    return str(raised.value)


def test_a_fragmented_mp4_is_named(clip_folder):
    assert "fragmented MP4" in unsupported(make(clip_folder, "fragmented.mp4"))


def test_a_png_is_named(clip_folder):
    assert "PNG image" in unsupported(videos.not_a_video(clip_folder))


def test_an_mp4_cut_before_its_moov_is_named(clip_folder):
    cut = videos.truncated(make(clip_folder, "h264_moov_end.mp4"), keep=0.9)
    assert "moov" in unsupported(cut)


def test_a_webm_without_frames_is_named(clip_folder):
    source = make(clip_folder, "vp9.webm")
    cut = clip_folder / "headers-only.webm"
    cut.write_bytes(source.read_bytes()[:300])
    assert "no Cluster" in unsupported(cut)


@pytest.mark.parametrize("content, named", [(b"", "an empty file"), (b"hello, this is text\n", "not an MP4 or WebM"),
                                            (b"\x1a\x45\xdf\xa3\x84\x42\x82\x81x", "DocType")])
def test_other_bytes_are_named(tmp_path, content, named):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with pytest.raises(UnsupportedVideo, match=named):
        asyncio.run(open_video(file_reader(path), len(content)))
