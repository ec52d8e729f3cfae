"""In Chromium, the precompressed copies arrive compressed and decode to the very files:
TF.js's script by fetch, and Pyodide's wasm through streaming compilation.

Runs on a small site holding the real tf.min.js and pyodide.asm.wasm from node_modules; their
brotli copies come from the build's cache (a cold cache costs about a minute of compression).
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from moodcam_tools.site.compress import precompress
from moodcam_tools.site.serve import serving
from tests.support.browser import CHROMIUM, chromium

REPO = Path(__file__).resolve().parents[2]
FILES = {"vendor/tfjs-4.22.0/tf.min.js": "@tensorflow/tfjs/dist/tf.min.js",
         "vendor/pyodide-0.27.7/pyodide.asm.wasm": "pyodide/pyodide.asm.wasm"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
    pytest.mark.skipif(shutil.which("node") is None, reason="brotli copies are made with node"),
]

CHECK = """async ([script, wasm]) => {
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  const out = {};
  for (const url of [script, wasm]) {
    const response = await fetch(url, { cache: "no-store" });
    const body = await response.arrayBuffer();
    out[url] = { type: response.headers.get("content-type"), encoding: response.headers.get("content-encoding"),
                 size: body.byteLength, sha256: hex(await crypto.subtle.digest("SHA-256", body)) };
  }
  const module = await WebAssembly.compileStreaming(fetch(wasm, { cache: "no-store" }));
  out.wasmExports = WebAssembly.Module.exports(module).length;
  out.timing = performance.getEntriesByType("resource")
    .map((e) => [new URL(e.name).pathname, e.encodedBodySize, e.decodedBodySize]);
  return out;
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    node_modules = REPO / "node_modules"
    if not all((node_modules / source).is_file() for source in FILES.values()):
        pytest.skip("needs node_modules from `npm ci` (any build.py site/test run makes it)")
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text("<!doctype html><title>precompressed</title>\n")
    for rel, source in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / source, root / rel)
    precompress(root)   # the build's own cache: warm after any build
    return root


def test_chromium_gets_brotli_and_decodes_it_to_the_files(site):
    script, wasm = FILES
    with serving(site) as server, chromium() as context:
        page = context.new_page()
        encodings = {}
        page.on("response", lambda r: encodings.setdefault(r.url.split("/", 3)[-1], []).append(
            r.headers.get("content-encoding")))
        page.goto(server.url)
        result = page.evaluate(CHECK, [script, wasm])
    for rel in FILES:
        data = (site / rel).read_bytes()
        got = result[rel]
        assert got["encoding"] == "br", rel
        assert got["size"] == len(data) and got["sha256"] == hashlib.sha256(data).hexdigest(), rel
        assert set(encodings[rel]) == {"br"}, rel
        sent = {(encoded, decoded) for path, encoded, decoded in result["timing"] if path == "/" + rel}
        assert sent == {((site / f"{rel}.br").stat().st_size, len(data))}, (rel, sent)
    assert result[script]["type"] == "text/javascript"
    assert result[wasm]["type"] == "application/wasm"
    assert result["wasmExports"] > 100, "Pyodide's module compiled from the compressed stream"
