"""Compile the moodcam package to bytecode with the browser's own interpreter, at build time.

Every page start imports moodcam's modules from the wheel unpacked into Pyodide's file system.
Without bytecode, each start compiles every module's source again: Pyodide's file system is new
on every visit, so nothing compiled is kept. The wheel therefore carries
`__pycache__/<module>.cpython-312.pyc` beside each source file, made by Pyodide 0.27.7 itself
(the npm package's interpreter, run by Node: the same CPython 3.12 build as the page's, so the
same magic number and the same marshal format; the build machine's own Python may be another
version). They are "unchecked-hash" pycs (PEP 552): the import system uses them without looking
at the source's timestamp (unpacked files have none worth trusting), and they carry a hash of the
source instead of a time, so the wheel stays byte-for-byte reproducible.

This is what `pyodide py-compile` (pyodide-build) does for Pyodide's own packages; pyodide-build
for this machine's Python cannot run it (see moodcam_tools.site.wheel).
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

from ..errors import BuildError

INSTALL_ROOT = "/lib/python3.12/site-packages"     # where engine.js unpacks the wheel (sysconfig purelib)

# Node: read {arcname: base64 source} from stdin, compile each in Pyodide, print {pyc arcname: base64}.
NODE_SCRIPT = r"""
const path = require("path");
const { loadPyodide } = require(path.join(process.argv[1], "pyodide.js"));
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const sources = JSON.parse(input);
  const pyodide = await loadPyodide({ indexURL: process.argv[1] + path.sep });
  const root = process.argv[2];
  for (const [name, data] of Object.entries(sources)) {
    const file = root + "/" + name;
    pyodide.FS.mkdirTree(file.slice(0, file.lastIndexOf("/")));
    pyodide.FS.writeFile(file, Buffer.from(data, "base64"));
  }
  pyodide.globals.set("_names", JSON.stringify(Object.keys(sources)));
  const out = pyodide.runPython(`
import importlib.util, json, py_compile
_out = {}
for _name in json.loads(_names):
    _src = ${JSON.stringify(root)} + "/" + _name
    _pyc = importlib.util.cache_from_source(_src)
    py_compile.compile(_src, cfile=_pyc, dfile=_src, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    _out[_pyc[len(${JSON.stringify(root)}) + 1:]] = _pyc
json.dumps(_out)
`);
  const result = {};
  for (const [name, file] of Object.entries(JSON.parse(out))) {
    result[name] = Buffer.from(pyodide.FS.readFile(file)).toString("base64");
  }
  process.stdout.write(JSON.stringify(result));
});
"""


def compile_sources(sources: dict[str, bytes], node_modules: Path, timeout_s: float = 300.0) -> dict[str, bytes]:
    """{arcname ("moodcam/x.py"): source} -> {arcname of its pyc ("moodcam/__pycache__/x.cpython-312.pyc"): bytes}."""
    node = shutil.which("node")
    pyodide_dir = node_modules / "pyodide"
    if node is None:
        raise BuildError("node is not on PATH: moodcam's bytecode is compiled by Pyodide under Node",
                         fix="install Node 20 (apt-get install -y nodejs npm)")
    if not (pyodide_dir / "pyodide.js").is_file():
        raise BuildError(f"{pyodide_dir} has no pyodide.js", fix="delete node_modules and run the build again")
    payload = json.dumps({name: base64.b64encode(data).decode() for name, data in sources.items()})
    try:
        done = subprocess.run([node, "-e", NODE_SCRIPT, str(pyodide_dir), INSTALL_ROOT], input=payload,
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BuildError(f"compiling moodcam's bytecode with Pyodide under Node took over {timeout_s:.0f} s",
                         fix="check that node runs (node --version) and try again") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-6:]
        raise BuildError("compiling moodcam's bytecode with Pyodide under Node failed:\n  " + "\n  ".join(tail),
                         fix="a syntax error in py/moodcam shows above; fix it and build again")
    return {name: base64.b64decode(data) for name, data in json.loads(done.stdout).items()}
