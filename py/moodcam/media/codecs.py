"""WebCodecs codec strings from the containers' decoder configuration records.

Each record is the payload of a box (MP4) or the CodecPrivate (Matroska) holding the same bytes:
- avcC, AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3): "avc1.PPCCLL", its profile,
  constraint and level bytes in hex;
- hvcC, HEVCDecoderConfigurationRecord (14496-15 8.3.3): "hvc1.<space><profile>.<compat>.<tier><level>.<constraints>"
  as 14496-15 Annex E spells it;
- vpcC, VPCodecConfigurationRecord (VP Codec ISO Media File Format Binding 2.2): "vp09.PP.LL.DD";
  a WebM without one gets the profile and bit depth from the first key frame's uncompressed header
  (VP9 bitstream spec 6.2) and level 10, as the WebCodecs VP9 registration allows;
- av1C, AV1CodecConfigurationRecord (AV1 ISOBMFF binding 2.3): "av01.P.LLT.DD".
Why here: VideoDecoder.configure needs the string and refuses a wrong one; the container's own
record is the one source that always matches the stream.
"""
from __future__ import annotations

from .types import UnsupportedVideo


def avc(avcc: bytes, prefix: str = "avc1") -> str:
    if len(avcc) < 7 or avcc[0] != 1:
        raise UnsupportedVideo("an H.264 track whose avcC record is malformed")
    return f"{prefix}.{avcc[1]:02X}{avcc[2]:02X}{avcc[3]:02X}"


def hevc(hvcc: bytes, prefix: str = "hvc1") -> str:
    if len(hvcc) < 23:
        raise UnsupportedVideo("an HEVC track whose hvcC record is malformed")
    space = ("", "A", "B", "C")[hvcc[1] >> 6]
    tier = "H" if hvcc[1] & 0x20 else "L"
    profile = hvcc[1] & 0x1F
    compat = int.from_bytes(hvcc[2:6], "big")
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = bytes(hvcc[6:12]).rstrip(b"\0")
    parts = [prefix, f"{space}{profile}", f"{reversed_compat:X}", f"{tier}{hvcc[12]}"]
    parts += [f"{byte:X}" for byte in constraints]
    return ".".join(parts)


def av1(av1c: bytes) -> str:
    if len(av1c) < 4 or av1c[0] != 0x81:
        raise UnsupportedVideo("an AV1 track whose av1C record is malformed")
    profile, level = av1c[1] >> 5, av1c[1] & 0x1F
    tier = "H" if av1c[2] & 0x80 else "M"
    depth = (12 if av1c[2] & 0x20 else 10) if av1c[2] & 0x40 else 8
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def vp9(profile: int, level: int, depth: int) -> str:
    return f"vp09.{profile:02d}.{level:02d}.{depth:02d}"


def vp9_from_vpcc(vpcc: bytes) -> str:
    """vpcC box payload: version and flags (4 bytes), then profile, level, bitDepth in the high nibble."""
    if len(vpcc) < 7:
        raise UnsupportedVideo("a VP9 track whose vpcC record is malformed")
    return vp9(vpcc[4], vpcc[5], vpcc[6] >> 4)


def vp9_from_codec_private(private: bytes) -> str | None:
    """WebM's VP9 CodecPrivate: (id, length, value) features, 1 profile, 2 level, 3 bit depth; None if it lacks one."""
    features: dict[int, int] = {}
    at = 0
    while at + 2 <= len(private):
        key, length = private[at], private[at + 1]
        features[key] = int.from_bytes(private[at + 2:at + 2 + length], "big")
        at += 2 + length
    if 1 not in features:
        return None
    return vp9(features[1], features.get(2, 10), features.get(3, 8))


def vp9_from_key_frame(frame: bytes) -> str:
    """The profile (and, for profiles 2 and 3, the bit depth) from a key frame's uncompressed header."""
    bits = "".join(f"{byte:08b}" for byte in frame[:5])
    if len(bits) < 40 or bits[:2] != "10":
        raise UnsupportedVideo("a VP9 track whose first key frame has no VP9 frame header")
    profile = int(bits[3] + bits[2], 2)
    at = 5 if profile == 3 else 4      # profile 3 has a reserved zero bit
    depth = 8
    if profile >= 2:
        # show_existing_frame, frame_type, show_frame, error_resilient_mode, then the 24-bit sync code
        ten_or_twelve = bits[at + 4 + 24] if len(bits) > at + 28 else "0"
        depth = 12 if ten_or_twelve == "1" else 10
    return vp9(profile, 10, depth)
