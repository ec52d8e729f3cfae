"""Streaming: memory stays at about one read-ahead window whatever the file's length, and the file is
read once, in order, in window-sized reads (the browser's File.slice calls)."""
from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from moodcam.media import open_video, reading

from .clips import file_reader, make

MIB = 1 << 20


async def walk(path, reads) -> tuple[int, int]:
    """(samples, peak bytes allocated while iterating), keeping no sample."""
    demuxed = await open_video(file_reader(path, reads), path.stat().st_size)
    tracemalloc.start()
    try:
        count = 0
        async for _ in demuxed.samples():
            count += 1
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["big.mp4", "big.mkv"])
def test_memory_is_one_window_not_the_file(clip_folder, name, monkeypatch):
    """A 128 KiB window over a file of some 20-40 windows (the default 1 MiB window over a 40 MiB file
    would take a minute to encode): the peak is a few windows, far below the file."""
    monkeypatch.setattr(reading, "WINDOW", 128 * 1024)
    path = make(clip_folder, name)
    size = path.stat().st_size
    assert size > 20 * reading.WINDOW
    reads: list[tuple[int, int]] = []
    count, peak = asyncio.run(walk(path, reads))
    print(f"{name}: peak {peak / 1024:.0f} KiB while demuxing {size / MIB:.1f} MiB")
    assert count == 180
    assert peak < 4 * reading.WINDOW, f"{peak / MIB:.2f} MiB held while demuxing a {size / MIB:.1f} MiB file"
    assert max(length for _, length in reads) <= reading.WINDOW
    assert sum(length for _, length in reads) < 1.5 * size
