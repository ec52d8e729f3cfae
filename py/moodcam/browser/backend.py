"""Choosing the TF.js backend: WebGL when it is really usable, else wasm.

"Really usable" means a WebGL context exists AND it can render to float
textures (EXT_color_buffer_float on WebGL2; TF.js reports it as
WEBGL_RENDER_FLOAT32_ENABLED). Without float render targets TF.js silently
computes in half floats, which shifts detector scores, so we prefer wasm then
(the lesson "know the target hardware": EXT_color_buffer_float decides float textures).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .interop import blank_canvas, logical_cores, tf


@dataclass(frozen=True)
class BackendChoice:
    name: str                 # the active tf.getBackend()
    fallback_reason: str = ""  # why webgl was not used, when it was wanted


def probe_webgl() -> str:
    """Return "" when WebGL2 with float render targets exists, else the reason it does not."""
    # The worker has no document: an OffscreenCanvas is what TF.js's WebGL backend uses there too.
    canvas = blank_canvas(1, 1)
    gl = canvas.getContext("webgl2")
    if gl is None:
        gl1 = canvas.getContext("webgl")
        return "no WebGL 2" if gl1 is None else "WebGL 2 is missing (only WebGL 1)"
    try:
        if gl.getExtension("EXT_color_buffer_float") is None:
            return "no float textures (EXT_color_buffer_float)"
        return ""
    finally:
        # Free the probe's context now: browsers cap live WebGL contexts (about 16).
        lose = gl.getExtension("WEBGL_lose_context")
        if lose is not None:
            lose.loseContext()


def wasm_threads(cores: int) -> int:
    """Threads for TF.js's wasm backend on a device with `cores` logical cores (threaded wasm needs
    a cross-origin isolated page, which the site is). One core is left to the page and the camera,
    so the page never waits for a core while the nets run; at most 4."""
    return max(1, min(4, cores - 1))


ACTIVATE_TIMEOUT_S = 30.0


async def _activate(name: str) -> bool:
    async def activate() -> bool:
        ok = await tf.setBackend(name)
        await tf.ready()
        return bool(ok)

    try:
        # A backend that hangs (e.g. a wasm worker the browser refuses) must not hang the page.
        ok = await asyncio.wait_for(activate(), ACTIVATE_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - any failure to start means "not this backend"
        return False
    return bool(ok) and str(tf.getBackend()) == name


async def choose_backend(preferred: str, wasm_url: str) -> BackendChoice:
    """Activate `preferred` ("auto", "webgl", "wasm"), falling back to wasm with a reason.

    Raises RuntimeError when not even wasm starts.
    """
    # Before any wasm use: the .wasm files come from our own vendor folder, never a CDN.
    tf.wasm.setWasmPaths(wasm_url)
    threads = wasm_threads(logical_cores())
    try:
        if threads > 1:
            tf.wasm.setThreadsCount(threads)
        else:
            # One thread gains nothing from the threaded build, and its start is not free: TF.js's
            # Emscripten glue spawns a pool of 8 pthread workers, each reading the glue and
            # instantiating the module, before the backend is ready. The SIMD build has none.
            tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", False)
    except Exception:  # noqa: BLE001 - already initialised (a later switch): keeps its threads
        pass
    reason = ""
    if preferred in ("auto", "webgl"):
        reason = probe_webgl()
        if not reason:
            if await _activate("webgl"):
                if tf.ENV.getBool("WEBGL_RENDER_FLOAT32_ENABLED"):
                    return BackendChoice("webgl")
                reason = "no float textures (WEBGL_RENDER_FLOAT32_ENABLED is false)"
            else:
                reason = "the TF.js WebGL backend did not start"
    if await _activate("wasm"):
        return BackendChoice("wasm", reason if preferred in ("auto", "webgl") else "")
    if await _activate("cpu"):
        return BackendChoice("cpu", (reason + "; " if reason else "") + "wasm did not start")
    raise RuntimeError("neither webgl, wasm nor cpu started")


def webgl_canvas():
    """The canvas of the active WebGL backend (to watch for context loss), or None."""
    try:
        backend = tf.backend()
        return backend.gpgpu.gl.canvas
    except Exception:  # noqa: BLE001 - not webgl, or TF.js internals moved
        return None
