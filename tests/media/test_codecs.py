"""Codec strings and descriptions: from each file's own record, checked against ffprobe's profile,
level and extradata (ffmpeg's copy of the same record), and on hand-made records."""
from __future__ import annotations

import pytest

from moodcam.media import codecs
from moodcam.media.types import UnsupportedVideo

from .clips import demux, extradata, make, probe

H264_PROFILES = {"Constrained Baseline": 66, "Baseline": 66, "Main": 77, "High": 100}


@pytest.mark.parametrize("name", ["h264_faststart.mp4", "h264.mov", "h264.mkv", "stills.mp4"])
def test_avc1_string_is_the_avcc_profile_and_level(clip_folder, name):
    path = make(clip_folder, name)
    _, stream = probe(path)
    track = demux(path)[0].track
    assert track.codec.startswith("avc1.") and len(track.codec) == 11
    assert int(track.codec[5:7], 16) == H264_PROFILES[stream["profile"]]
    assert int(track.codec[9:11], 16) == stream["level"]
    assert track.description == extradata(stream)
    assert track.codec[5:] == track.description[1:4].hex().upper()


def test_hevc_string(clip_folder):
    path = make(clip_folder, "hevc.mp4")
    _, stream = probe(path)
    track = demux(path)[0].track
    assert stream["profile"] == "Main"
    assert track.codec.startswith("hvc1.1.6.") and f".L{stream['level']}." in track.codec
    assert track.description == extradata(stream)


@pytest.mark.parametrize("name", ["av1.mp4", "av1.webm"])
def test_av1_string(clip_folder, name):
    path = make(clip_folder, name)
    _, stream = probe(path)
    track = demux(path)[0].track
    assert stream["profile"] == "Main"
    assert track.codec == f"av01.0.{stream['level']:02d}M.08"
    assert track.description == extradata(stream)


@pytest.mark.parametrize("name, codec", [("vp8.webm", "vp8"), ("stills.webm", "vp09.00.10.08"),
                                         ("vp9_10bit.webm", "vp09.02.10.10")])
def test_vp8_and_vp9_strings(clip_folder, name, codec):
    """WebM VP9 has no CodecPrivate from ffmpeg: the profile and depth come from the first key frame."""
    path = make(clip_folder, name)
    _, stream = probe(path)
    track = demux(path)[0].track
    assert track.codec == codec and track.description is None
    if codec.startswith("vp09"):
        assert stream["profile"] == f"Profile {int(codec[5:7])}"


def test_hand_made_records():
    avcc = bytes([1, 0x42, 0xC0, 0x1E, 0xFF, 0xE0, 0x00])
    assert codecs.avc(avcc) == "avc1.42C01E"
    # 14496-15 Annex E's example: Main profile, compatibility 0x60000000, level 93, constraint byte 0xB0
    hvcc = bytes([1, 0x01, 0x60, 0, 0, 0, 0xB0, 0, 0, 0, 0, 0, 93]) + bytes(10)
    assert codecs.hevc(hvcc) == "hvc1.1.6.L93.B0"
    assert codecs.av1(bytes([0x81, 0x08, 0x4C, 0x00])) == "av01.0.08M.10"
    assert codecs.vp9_from_vpcc(bytes([1, 0, 0, 0, 2, 31, 0xA2, 1, 1, 1, 0, 0])) == "vp09.02.31.10"
    assert codecs.vp9_from_codec_private(bytes([1, 1, 1, 2, 1, 41, 3, 1, 8])) == "vp09.01.41.08"
    with pytest.raises(UnsupportedVideo, match="avcC"):
        codecs.avc(b"\x00")
