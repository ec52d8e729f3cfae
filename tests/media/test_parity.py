"""moodcam.media's samples equal ffprobe's packets: same count, decode order, sizes, key flags and
bytes (MD5), and presentation times equal pts_time minus the stream's start within 1 ms.

ffprobe applies the MP4 edit list as browsers do (a libx264 stream with B-frames starts at pts 0,
its dts negative), so the first frame is at ~0 in both.
"""
from __future__ import annotations

import pytest

from moodcam.media import reading

from .clips import Packet, demux, make, md5, probe, with_unknown_sizes

CLIPS = ["stills.mp4", "stills.webm", "h264_faststart.mp4", "h264_moov_end.mp4", "h264.mov", "h264.mkv",
         "vp8.webm", "vp9.webm", "vp9_live.webm", "hevc.mp4", "av1.mp4", "av1.webm"]
TOLERANCE_S = 0.001


def assert_same_as_ffprobe(samples, packets: list[Packet], *, durations: bool) -> None:
    assert len(samples) == len(packets)
    for index, (sample, packet) in enumerate(zip(samples, packets)):
        where = f"sample {index}"
        assert len(sample.data) == packet.size, where
        assert sample.key == packet.key, where
        assert md5(sample.data) == packet.md5, where
        assert sample.time_s == pytest.approx(packet.time_s, abs=TOLERANCE_S), where
        if durations and packet.duration_s is not None:
            assert sample.duration_s == pytest.approx(packet.duration_s, abs=TOLERANCE_S), where


@pytest.mark.parametrize("name", CLIPS)
def test_samples_match_ffprobes_packets(clip_folder, name):
    path = make(clip_folder, name)
    packets, stream = probe(path)
    demuxed, samples = demux(path)
    assert_same_as_ffprobe(samples, packets, durations=demuxed.track.container == "mp4")
    assert demuxed.stopped_s is None
    assert (demuxed.track.width, demuxed.track.height) == (stream["coded_width"], stream["coded_height"])
    assert demuxed.track.container == ("mp4" if path.suffix in (".mp4", ".mov") else "webm")


def test_h264_clips_have_b_frames_so_the_order_is_tested(clip_folder):
    _, samples = demux(make(clip_folder, "h264_faststart.mp4"))
    times = [s.time_s for s in samples]
    assert times != sorted(times) and samples[0].time_s == pytest.approx(0.0, abs=TOLERANCE_S)


def test_unknown_size_segment_and_clusters(clip_folder):
    """MediaRecorder's layout: the Segment and every Cluster of unknown size (patched into an ffmpeg WebM)."""
    source = make(clip_folder, "vp9.webm")
    patched = with_unknown_sizes(source, clip_folder / "vp9_unknown_sizes.webm")
    assert patched.read_bytes() != source.read_bytes()
    packets, _ = probe(source)
    demuxed, samples = demux(patched)
    assert_same_as_ffprobe(samples, packets, durations=False)
    assert demuxed.stopped_s is None


@pytest.mark.parametrize("name", ["h264_moov_end.mp4", "vp9.webm"])
def test_a_small_window_reads_across_its_edges(clip_folder, name, monkeypatch):
    """A 4 KiB read-ahead window: samples straddle its edges and some are larger than it."""
    monkeypatch.setattr(reading, "WINDOW", 4096)
    path = make(clip_folder, name)
    packets, _ = probe(path)
    reads: list[tuple[int, int]] = []
    _, samples = demux(path, reads)
    assert_same_as_ffprobe(samples, packets, durations=False)
    assert any(len(s.data) > 4096 for s in samples)
    largest_read = max(length for _, length in reads)
    assert 4096 < largest_read <= max(len(s.data) for s in samples) + 16     # a block's header is read with it
