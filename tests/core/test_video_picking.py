"""FramePicker: the frame a <video> would show at each sample time, each analysed once."""
from __future__ import annotations

from moodcam.video_picking import FramePicker
from moodcam.video_report import sample_times


def picks(frame_times: list[float], times: list[float]) -> list[tuple[float, float]]:
    """(frame time, analysed at) for every frame the picker keeps."""
    picker = FramePicker(iter(times))
    kept = []
    for before, now in zip([None] + frame_times, frame_times):
        at = picker.offer(now)
        if at is not None:
            kept.append((before, at))
    at = picker.finish()
    if at is not None:
        kept.append((frame_times[-1], at))
    return kept


def seek_reference(frame_times: list[float], times: list[float]) -> list[tuple[float, float]]:
    """What seeking a <video> to each time shows (the last frame at or before it, the first before
    any), each frame kept at its first time only: the independent spelling of the rule."""
    kept: dict[float, float] = {}
    for t in times:
        shown = max((p for p in frame_times if p <= t + 1e-4), default=frame_times[0])
        kept.setdefault(shown, t)
    return sorted(kept.items())


def test_30_fps_sampled_at_10_per_second_keeps_every_third_frame_at_the_sample_time():
    frames = [k / 30 for k in range(90)]
    times = list(sample_times(3.0, 10))
    kept = picks(frames, times)
    assert kept == seek_reference(frames, times)
    assert [round(f * 30) for f, _ in kept] == list(range(0, 90, 3))
    assert [at for _, at in kept] == times


def test_frames_that_do_not_start_at_zero_and_uneven_frame_times_match_seeking():
    frames = [0.033, 0.07, 0.1, 0.2, 0.21, 0.5, 0.9, 0.95]
    times = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert picks(frames, times) == seek_reference(frames, times)
    assert picks(frames, times)[0] == (0.033, 0.0)          # before the first frame: the first frame


def test_more_samples_than_frames_analyse_each_frame_once():
    frames = [k / 10 for k in range(10)]
    times = list(sample_times(1.0, 30))
    kept = picks(frames, times)
    assert [f for f, _ in kept] == frames and kept == seek_reference(frames, times)


def test_a_sample_time_within_rounding_of_a_frame_takes_that_frame():
    frames = [0.0, 0.0999999, 0.2]      # a frame time written in microseconds, a sample time as k / N
    assert picks(frames, [0.0, 0.1, 0.2]) == [(0.0, 0.0), (0.0999999, 0.1), (0.2, 0.2)]


def test_done_once_every_sample_time_is_taken():
    picker = FramePicker(iter([0.0, 0.5]))
    assert not picker.done
    picker.offer(0.0)
    picker.offer(0.4)        # frame 0.0 takes 0.0
    assert not picker.done
    assert picker.offer(0.6) == 0.5 and picker.done
    assert picker.finish() is None


def test_no_frames_or_no_times_pick_nothing():
    assert FramePicker(iter([0.0])).finish() is None
    picker = FramePicker(iter([]))
    assert picker.offer(0.0) is None and picker.finish() is None and picker.done
