"""A read-ahead window over a `Read`: small reads served from one ~1 MB buffer.

The demuxers ask for many small ranges in file order (box and element headers, one sample at a
time); each call to the browser's `File.slice().arrayBuffer()` costs far more than the bytes it
returns, so a miss reads `window` bytes from the asked offset on and later asks inside them are
slices. Only one buffer is held: memory stays at max(window, largest sample) whatever the file's
length. `size` is the file's length as the caller knows it; bytes past it, or past where `read`
returns short (a file cut short), are simply absent: `take` returns fewer bytes than asked.
"""
from __future__ import annotations

from .types import Read

WINDOW = 1 << 20


class ReadAhead:
    def __init__(self, read: Read, size: int, window: int | None = None) -> None:
        self._read = read
        self.size = size
        self._window = window or WINDOW
        self._start = 0
        self._buffer = b""

    async def take(self, offset: int, length: int) -> bytes:
        """Bytes [offset, offset + length): shorter (or b"") only where the file ends."""
        start = offset - self._start
        if start >= 0 and start + length <= len(self._buffer):
            return self._buffer[start:start + length]
        wanted = min(max(length, self._window), self.size - offset)
        if wanted <= 0 or offset < 0:
            return b""
        data = bytes(await self._read(offset, wanted))
        self._start, self._buffer = offset, data
        return data[:length]
