"""CPU-seconds of the whole browser, and a phone-class CPU: the bench's own cgroup (v1 cpu + cpuacct).

Chromium's `Emulation.setCPUThrottlingRate` slows a page's main thread only (Chromium refuses it for
dedicated workers). To measure as a phone, the bench puts the whole browser (every process and
thread: the page, the engine's worker, V8's background compilers, the GPU and network processes) in a
cgroup of its own right after launch, before any page loads (processes started later inherit it):
  - `cpuacct.usage` (nanoseconds, all of them) gives the CPU-seconds from navigation to the first
    answer, read from samples taken every few ms and interpolated at the page's own timestamps;
  - `cpu.cfs_quota_us` (with `--phone`) cuts them all together to QUOTA of one core, as
    ../shared/tools/phone-cpu does (`--quota 0.5`: half a core, all threads 4x slower than 2 cores).
The bench process itself (and Playwright's driver) stay outside the group. Needs root and cgroup v1
`cpu` and `cpuacct` hierarchies under /sys/fs/cgroup; where they are not writable, `unavailable()`
says why and the bench skips these figures.
"""
from __future__ import annotations

import bisect
import contextlib
import itertools
import os
import threading
import time
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
_names = itertools.count(1)


def unavailable(root: Path = CGROUP) -> str:
    """'' where the bench can make its cgroups, else why not."""
    for hierarchy in ("cpu", "cpuacct"):
        d = root / hierarchy
        if not (d / "cgroup.procs").exists():
            return f"no cgroup v1 {hierarchy} hierarchy at {d}"
        if not os.access(d, os.W_OK):
            return f"{d} is not writable (needs root and cgroup v1 cpu,cpuacct)"
    return ""


def quota_us(quota: float | None) -> int:
    """cpu.cfs_quota_us for a share of one core (None: no quota, -1)."""
    if quota is None:
        return -1
    us = int(round(quota * PERIOD_US))
    if us < 1000:
        raise ValueError(f"a CPU quota of {quota} of a core is too small")
    return us


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _is_browser(pid: int) -> bool:
    try:
        return "chrom" in os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return False


def browser_tree(root: int | None = None) -> list[int]:
    """Every process of the browsers this process started (through Playwright's driver): the topmost
    Chromium processes among its descendants and all of theirs."""
    kids = _children()
    found: list[int] = []
    todo = list(kids.get(root if root is not None else os.getpid(), []))
    while todo:
        pid = todo.pop()
        if _is_browser(pid):
            tree = [pid]
            for p in tree:
                tree.extend(kids.get(p, []))
            found.extend(tree)
        else:
            todo.extend(kids.get(pid, []))
    return found


class CpuSampler:
    """`cpuacct.usage` every `every` s on a thread of this process: (time.time(), CPU-seconds) pairs,
    so the usage at any moment of a visit is interpolated afterwards (`usage_at`)."""

    def __init__(self, usage_file: Path, every: float = 0.01) -> None:
        self._file = usage_file
        self.times: list[float] = []
        self.values: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), name="bench-cpu-sampler", daemon=True)
        self._thread.start()

    def read(self) -> float:
        return int(self._file.read_text()) / 1e9

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError):
                value = self.read()
                with self._lock:
                    self.times.append(time.time())
                    self.values.append(value)
            self._stop.wait(every)

    def usage_at(self, epoch_s: float) -> float | None:
        with self._lock:
            return interpolate(self.times, self.values, epoch_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def interpolate(times: list[float], values: list[float], at: float) -> float | None:
    """values at `at`, linear between the two samples around it (None outside the samples)."""
    if not times or at < times[0] or at > times[-1]:
        return None
    i = bisect.bisect_left(times, at)
    if times[i] == at or i == 0:
        return values[i]
    t0, t1, v0, v1 = times[i - 1], times[i], values[i - 1], values[i]
    return v0 + (v1 - v0) * (at - t0) / (t1 - t0) if t1 > t0 else v1


class BrowserGroup:
    """One cgroup (cpu + cpuacct) for one browser launch, with its CPU quota (None: none) and a sampler
    of its usage. `adopt()` moves the browser's processes in; `close()` removes the group."""

    def __init__(self, quota: float | None, root: Path = CGROUP) -> None:
        name = f"moodcam-bench-{os.getpid()}-{next(_names)}"
        self.quota = quota
        self.cpu = root / "cpu" / name
        self.acct = root / "cpuacct" / name
        self._root = root
        self.cpu.mkdir()
        self.acct.mkdir()
        (self.cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (self.cpu / "cpu.cfs_quota_us").write_text(str(quota_us(quota)))
        self.adopted: list[int] = []
        self.sampler: CpuSampler | None = None

    def adopt(self) -> int:
        """Moves the browser's processes (all their threads) into the group; a second pass catches a
        process started meanwhile. Returns how many were moved; starts the sampler."""
        for _ in range(3):
            new = [p for p in browser_tree() if p not in self.adopted]
            if not new:
                break
            for pid in new:
                for d in (self.cpu, self.acct):
                    with contextlib.suppress(OSError):   # a process that ended meanwhile
                        (d / "cgroup.procs").write_text(str(pid))
                self.adopted.append(pid)
        if self.sampler is None:
            self.sampler = CpuSampler(self.acct / "cpuacct.usage")
        return len(self.adopted)

    def members(self) -> list[int]:
        try:
            return [int(p) for p in (self.acct / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def usage_s(self) -> float:
        return int((self.acct / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        for d, top in ((self.cpu, self._root / "cpu"), (self.acct, self._root / "cpuacct")):
            for _ in range(20):
                with contextlib.suppress(OSError):   # a process still there goes back to the root group
                    for pid in (d / "cgroup.procs").read_text().split():
                        (top / "cgroup.procs").write_text(pid)
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


@contextlib.contextmanager
def browser_group(quota: float | None, enabled: bool = True):
    """A BrowserGroup for one launch, or None where cgroups are off or unavailable."""
    if not enabled or unavailable():
        yield None
        return
    try:
        group = BrowserGroup(quota)
    except OSError as error:   # e.g. a read-only cgroup mount that still looked writable
        print(f"[bench] no cgroup for this browser ({error}): no CPU-seconds, no quota", flush=True)
        yield None
        return
    try:
        yield group
    finally:
        group.close()


def settle(group: BrowserGroup, quiet: float = 0.05, window: float = 0.5, timeout: float = 15.0) -> dict:
    """Waits until the freshly launched browser is idle (under `quiet` of a core over `window` s; at
    most `timeout` s), so that a visit's CPU-seconds do not hold the browser's own start-up (its
    first second preloads WebUI pages in a renderer of their own: about 0.5 CPU-s here)."""
    t0, u0 = time.monotonic(), group.usage_s()
    last_t, last_u = t0, u0
    while time.monotonic() - t0 < timeout:
        time.sleep(window)
        t, u = time.monotonic(), group.usage_s()
        if (u - last_u) / (t - last_t) < quiet:
            break
        last_t, last_u = t, u
    return {"waited_s": round(time.monotonic() - t0, 2), "browser_start_cpu_s": round(group.usage_s(), 3)}


def page_clock_offset_s(page, tries: int = 5) -> tuple[float, float]:
    """The page's epoch clock (performance.timeOrigin + now()) minus this process's time.time(), and the
    round trip it was read in: the quickest of `tries` (a busy page answers late). Both clocks are the
    system's: an offset within half the round trip cannot be told from 0 and is taken as 0."""
    best: tuple[float, float] | None = None
    for _ in range(tries):
        a = time.time()
        js = page.evaluate("() => performance.timeOrigin + performance.now()") / 1000
        b = time.time()
        if best is None or b - a < best[0]:
            best = (b - a, js - (a + b) / 2)
    assert best is not None
    latency, offset = best
    return (offset if abs(offset) > latency / 2 else 0.0), latency


def visit_cpu(page, group: BrowserGroup | None, answer_ms: float | None, answer: str) -> dict | None:
    """CPU-seconds of the whole browser (the group's cpuacct.usage, every process and thread) from the
    page's navigation start (performance.timeOrigin) to `answer_ms` after it, with the wall time."""
    if group is None or group.sampler is None:
        return None
    out: dict = {"answer": answer, "quota_cores": group.quota, "wall_s": None, "cpu_s": None}
    if answer_ms is None:
        return out
    offset, latency = page_clock_offset_s(page)
    origin = page.evaluate("() => performance.timeOrigin") / 1000 - offset
    start, end = group.sampler.usage_at(origin), group.sampler.usage_at(origin + answer_ms / 1000)
    out["wall_s"] = round(answer_ms / 1000, 3)
    if start is not None and end is not None:
        out["cpu_s"] = round(end - start, 3)
    out["clock_offset_ms"] = round(offset * 1000, 1)
    out["clock_round_trip_ms"] = round(latency * 1000, 1)
    return out
