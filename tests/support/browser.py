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
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("MOODCAM_CHROMIUM", "/usr/bin/chromium")

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
             no_webgl: list[str] | None = None):
    """Yield a Playwright BrowserContext on Debian Chromium with a fresh profile."""
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
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
