"""How long, and how many, connections `build.py serve` keeps (site.serve uses these).

- A deadline for the whole of something, not for each read: a socket timeout restarts with
  every byte that arrives, so a client that sends one byte every 2 s would never time out.
  `DeadlineReader` and `DeadlineWriter` give each socket call only the time left.
- Slots: a fixed number of connections are served at once, a few more are answered
  "503, retry later", and any beyond those are closed at once, so no client can make the
  server start threads without end.
"""
from __future__ import annotations

import io
import socket
import threading
import time
from dataclasses import dataclass


class Deadline:
    """A point in time (time.monotonic) that `restart` moves."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def restart(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; TimeoutError once it has passed (the stdlib handler closes on that)."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline for this request passed")
        return left


class DeadlineReader(io.RawIOBase):
    """A socket's receiving side whose every recv waits at most until the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline):
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:   # buffer: any writable bytes-like object
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv_into(buffer)


class DeadlineWriter(io.BufferedIOBase):
    """A socket's sending side (as socketserver's unbuffered writer) bounded by the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline):
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:   # data: any bytes-like object
        self._sock.settimeout(self._deadline.remaining())
        self._sock.sendall(data)   # since Python 3.5 a timeout bounds the whole sendall
        with memoryview(data) as view:
            return view.nbytes

    def fileno(self) -> int:
        return self._sock.fileno()


@dataclass
class Connection:
    """What the server tells a handler about its connection."""

    deadline: Deadline
    over_capacity: bool   # answer 503 and close, whatever was asked


SERVE, REFUSE = "serve", "refuse"


class Slots:
    """`serving` connections at once, plus `refusing` more that are only answered 503."""

    def __init__(self, serving: int, refusing: int):
        if serving < 1 or refusing < 0:
            raise ValueError(f"need at least one connection to serve (got {serving}) and no negative "
                             f"number to refuse (got {refusing})")
        self._free = {SERVE: serving, REFUSE: refusing}
        self._lock = threading.Lock()

    def claim(self) -> str | None:
        """SERVE, REFUSE, or None when both kinds are taken (close the connection unanswered)."""
        with self._lock:
            for kind in (SERVE, REFUSE):
                if self._free[kind] > 0:
                    self._free[kind] -= 1
                    return kind
        return None

    def release(self, kind: str) -> None:
        with self._lock:
            self._free[kind] += 1
