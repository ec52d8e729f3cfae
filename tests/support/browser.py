"""Launch Debian's headless Chromium through Playwright (never `playwright install`).

Flags from ../shared/NOTES.md: headless as root needs --no-sandbox; the
background-networking flags keep Chromium from calling out of this machine;
SwiftShader gives a real WebGL2 context (EXT_color_buffer_float present) on
machines without a GPU.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

CHROMIUM = os.environ.get("MOODCAM_CHROMIUM", "/usr/bin/chromium")
# The longest a test may keep one browser open (the soak test asks for more): e2e blocks take up to
# about 2 minutes on a loaded 2-core machine; a hang stops here and fails its own test, well inside
# CI's budget.
TEST_DEADLINE_S = 600.0

BASE_FLAGS = [
    "--no-sandbox",
    "--disable-gpu-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--js-flags=--expose-gc",
]
WEBGL_FLAGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
# --disable-webgl only reaches <canvas> elements: an OffscreenCanvas (the worker's) still gets WebGL
# unless the GPU process is off too. A browser without WebGL has neither.
CANVAS_WEBGL_OFF = ["--disable-webgl", "--disable-webgl2", "--disable-3d-apis"]
NO_WEBGL_FLAGS = CANVAS_WEBGL_OFF + ["--disable-gpu", "--disable-software-rasterizer"]


def chromium_flags(*, webgl: bool = True, fake_camera: Path | None = None,
                   camera_permission: bool = True, extra: list[str] | None = None,
                   no_webgl: list[str] | None = None) -> list[str]:
    flags = list(BASE_FLAGS)
    flags += WEBGL_FLAGS if webgl else (NO_WEBGL_FLAGS if no_webgl is None else no_webgl)
    if fake_camera is not None:
        flags += ["--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={fake_camera}"]
        if camera_permission:
            flags.append("--use-fake-ui-for-media-stream")
    return flags + list(extra or [])


@contextlib.contextmanager
def chromium(*, webgl: bool = True, fake_camera: Path | None = None, camera_permission: bool = True,
             extra_flags: list[str] | None = None, viewport: tuple[int, int] = (1366, 768),
             no_webgl: list[str] | None = None, deadline_s: float | None = TEST_DEADLINE_S):
    """Yield a Playwright BrowserContext on Debian Chromium with a fresh profile.

    `deadline_s`: a block still open after this long has its Chromium killed, so a page.evaluate
    whose promise never settles (Playwright gives evaluate no timeout) fails that test with
    `BrowserDeadline` instead of hanging the whole run. None for no deadline (the bench's long runs).
    """
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `apt-get install -y chromium chromium-driver` "
                           "(build.py test does it when run as root)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="moodcam-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=chromium_flags(webgl=webgl, fake_camera=fake_camera,
                                    camera_permission=camera_permission, extra=extra_flags, no_webgl=no_webgl),
                viewport={"width": viewport[0], "height": viewport[1]},
                # Permissions are decided by the flags above (fake UI accepts, absence denies).
            )
            watchdog = Watchdog(profile, deadline_s)
            try:
                yield context
            except Exception as error:
                if watchdog.fired:
                    raise BrowserDeadline(f"Chromium was killed after {deadline_s:.0f} s: a Playwright call "
                                          "in this block never returned (see the cause below)") from error
                raise
            finally:
                watchdog.cancel()
                if not watchdog.fired:
                    context.close()
            if watchdog.fired:
                raise BrowserDeadline(f"Chromium was killed after {deadline_s:.0f} s")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class BrowserDeadline(AssertionError):
    """A browser block outlived its deadline and its Chromium was killed."""


def _processes_with(arg: str) -> list[int]:
    """PIDs of processes whose command line holds `arg` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if arg.encode() in cmdline:
            pids.append(int(entry.name))
    return pids


class Watchdog:
    """Kills the Chromium that uses `profile` (its own fresh user-data-dir) after `deadline_s`.

    Killing the browser makes every pending Playwright call fail at once, so the test that hung
    reports where, and the run goes on with the next test."""

    def __init__(self, profile: str, deadline_s: float | None):
        self.fired = False
        self._arg = f"--user-data-dir={profile}"
        self._timer = None
        if deadline_s is not None:
            self._timer = threading.Timer(deadline_s, self._kill)
            self._timer.daemon = True
            self._timer.start()

    def _kill(self) -> None:
        self.fired = True
        for pid in _processes_with(self._arg):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
