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
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

from ..errors import BuildError
from .zips import write_stored

INSTALL_ROOT = "/lib/python3.12/site-packages"     # where engine.js unpacks the wheel (sysconfig purelib)
# The fix for a Pyodide package or standard-library compile that fails: a stale staged Pyodide.
REBUILD = "delete node_modules and the build's dist folder, then build again"

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
    pyodide_dir = node_modules / "pyodide"
    node = _node("moodcam's bytecode")
    if not (pyodide_dir / "pyodide.js").is_file():
        raise BuildError(f"{pyodide_dir} has no pyodide.js", fix="delete node_modules and run the build again")
    payload = json.dumps({name: base64.b64encode(data).decode() for name, data in sources.items()})
    return _compiled_under_node([node, "-e", NODE_SCRIPT, str(pyodide_dir), INSTALL_ROOT], timeout_s,
                                "compiling moodcam's bytecode with Pyodide under Node",
                                "a syntax error in py/moodcam shows above; fix it and build again", payload)


def _node(compiled: str) -> str:
    """The node command, for `compiled` ("moodcam's bytecode"): a BuildError naming the fix without it."""
    node = shutil.which("node")
    if node is None:
        raise BuildError(f"node is not on PATH: {compiled} is compiled by Pyodide under Node",
                         fix="install Node 20 (apt-get install -y nodejs npm)")
    return node


def _compiled_under_node(command: list[str], timeout_s: float, doing: str, fix: str,
                         payload: str | None = None) -> dict[str, bytes]:
    """Runs one of the scripts above (`payload` on its stdin) and decodes its answer, {name: base64}.
    A run over `timeout_s` or one that fails is a BuildError that says what it was `doing`, the
    script's last lines, and `fix`."""
    try:
        done = subprocess.run(command, input=payload, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{doing} took over {timeout_s:.0f} s",
                         fix="check that node runs (node --version) and try again") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-6:]
        raise BuildError(f"{doing} failed:\n  " + "\n  ".join(tail), fix=fix)
    return {name: base64.b64decode(data) for name, data in json.loads(done.stdout).items()}


# Node: load one Pyodide package from a staged Pyodide folder, import it as a start does, and
# compile each of its modules that the import loaded; print {source member: base64 pyc}.
PACKAGE_SCRIPT = r"""
const path = require("path");
const { loadPyodide } = require(path.join(process.argv[1], "pyodide.js"));
(async () => {
  const [indexURL, name] = [process.argv[1] + path.sep, process.argv[2]];
  const pyodide = await loadPyodide({ indexURL });
  await pyodide.loadPackage(name, { messageCallback: () => {} });
  pyodide.globals.set("_name", name);
  const out = pyodide.runPython(`
import base64, importlib, json, os, py_compile, sys
sys.dont_write_bytecode = True
# site-packages, as the package's own path spells it (sysconfig's may start with "//" under Node)
_root = os.path.dirname(os.path.dirname(importlib.import_module(_name).__file__))
_out = {}
for _module_name, _module in sorted(sys.modules.items()):
    _src = getattr(_module, "__file__", None) or ""
    if not (_module_name == _name or _module_name.startswith(_name + ".")):
        continue
    if not (_src.startswith(_root + "/") and _src.endswith(".py")):
        continue
    py_compile.compile(_src, cfile="/tmp/_module.pyc", dfile=_src, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    with open("/tmp/_module.pyc", "rb") as _f:
        _out[_src[len(_root) + 1:]] = base64.b64encode(_f.read()).decode()
json.dumps(_out)
`);
  process.stdout.write(out);
})().catch((error) => { console.error(String(error && error.stack || error)); process.exit(1); });
"""


def package_import_bytecode(pyodide_dir: Path, name: str, timeout_s: float = 300.0) -> dict[str, bytes]:
    """{wheel member ("numpy/linalg/_linalg.py"): its unchecked-hash pyc} for every module of Pyodide
    package `name` that `import name` loads, compiled by the staged Pyodide (`pyodide_dir`: runtime,
    lock and the package's wheel) under Node.

    Pyodide's own wheels (numpy's included) carry sources only, so every visit compiled numpy's
    modules again: `import numpy` took 0.98 s from source and 0.36 s from bytecode (Pyodide 0.27.7
    under Node on this machine). Only what the import loads is compiled (numpy: 79 of its 174
    modules); a module imported later compiles as before."""
    node = _node(f"{name}'s bytecode")
    compiled = _compiled_under_node([node, "-e", PACKAGE_SCRIPT, str(pyodide_dir.resolve()), name], timeout_s,
                                    f"compiling {name}'s bytecode with Pyodide under Node", REBUILD)
    if not compiled:
        raise BuildError(f"importing {name} in Pyodide loaded none of its modules from site-packages",
                         fix=f"check that the staged Pyodide folder holds {name}'s wheel and its lock entry")
    return compiled


# Node: start the staged Pyodide, load `packages`, unpack the moodcam wheel, import the given
# modules as the app's start does, then compile every standard-library module now imported from
# python_stdlib.zip; print {zip member ("typing.py"): base64 pyc}.
STDLIB_SCRIPT = r"""
const path = require("path");
const fs = require("fs");
const { loadPyodide } = require(path.join(process.argv[1], "pyodide.js"));
(async () => {
  const [indexURL, packages, wheel, imports] = [process.argv[1] + path.sep, JSON.parse(process.argv[2]),
                                                 process.argv[3], process.argv[4]];
  const pyodide = await loadPyodide({ indexURL });
  await pyodide.loadPackage(packages, { messageCallback: () => {} });
  pyodide.unpackArchive(new Uint8Array(fs.readFileSync(wheel)), "zip", { extractDir: "/lib/python3.12/site-packages" });
  pyodide.globals.set("_imports", imports);
  const out = pyodide.runPython(`
import base64, importlib, json, py_compile, sys, zipfile
sys.dont_write_bytecode = True
for _name in json.loads(_imports):
    try:
        importlib.import_module(_name)
    except Exception:
        pass    # a browser-only module stops at the page's JavaScript: what it imported so far counts
_zip = next(p for p in sys.path if p.endswith(".zip"))
_out = {}
with zipfile.ZipFile(_zip) as _archive:
    for _name, _module in sorted(sys.modules.items()):
        _file = str(getattr(_module, "__file__", None) or "")
        if not (_file.startswith(_zip + "/") and _file.endswith(".py")):
            continue
        _member = _file[len(_zip) + 1:]
        with open("/tmp/_source.py", "wb") as _f:
            _f.write(_archive.read(_member))
        py_compile.compile("/tmp/_source.py", cfile="/tmp/_source.pyc", dfile=_file, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        with open("/tmp/_source.pyc", "rb") as _f:
            _out[_member] = base64.b64encode(_f.read()).decode()
json.dumps(_out)
`);
  process.stdout.write(out);
})().catch((error) => { console.error(String(error && error.stack || error)); process.exit(1); });
"""


def stdlib_start_bytecode(pyodide_dir: Path, packages: list[str], wheel: Path, imports: list[str],
                          timeout_s: float = 300.0) -> dict[str, bytes]:
    """{python_stdlib.zip member ("typing.py"): its unchecked-hash pyc} for every standard-library
    module a start imports: Pyodide's own start-up, `packages` (numpy) and `imports` (moodcam's
    modules, from `wheel`), measured by doing it in the staged Pyodide under Node.

    python_stdlib.zip carries sources only: every first visit compiled the ~150 modules a start
    imports (a return visit restores most of them from its snapshot). Under Node, loadPyodide
    took 4.8-5.1 s with sources and 2.0-2.8 s with these pycs."""
    node = _node("the standard library's bytecode")
    compiled = _compiled_under_node([node, "-e", STDLIB_SCRIPT, str(pyodide_dir.resolve()), json.dumps(packages),
                                     str(wheel.resolve()), json.dumps(imports)], timeout_s,
                                    "compiling the standard library's bytecode under Node", REBUILD)
    if len(compiled) < 50:
        raise BuildError(f"a start imported only {len(compiled)} modules from python_stdlib.zip under Node",
                         fix="check the staged Pyodide folder (python_stdlib.zip, the lock) and build again")
    return compiled


def with_bytecode(zip_bytes: bytes, compiled: dict[str, bytes], leave_out: tuple[str, ...] = (),
                  leave_out_under: tuple[str, ...] = ()) -> bytes:
    """The zip with each compiled member's source replaced by its pyc (`x.py` -> `x.pyc`, same
    place, date and attributes; stored), and the members whose names end with one of `leave_out`
    or start with one of `leave_out_under` (folders, "pkg/sub/") left out. Python's import system
    (zipimport for python_stdlib.zip, the path finder's sourceless loader for an unpacked wheel)
    takes `x.pyc` where `x.py` is missing, and an unchecked-hash pyc
    needs no source. The sources are left out to keep a first visit's bytes down: a traceback
    through those modules shows file and line without the line's text. A wheel's
    `*.dist-info/RECORD` is rewritten to list what it now holds (PEP 376 hashes and sizes)."""
    out = io.BytesIO()
    record: list[str] = []
    record_info = None
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            name = info.filename
            if name.endswith(".dist-info/RECORD"):
                record_info = info          # written last, once every member's hash is known
                continue
            if (leave_out and name.endswith(leave_out)) or (leave_out_under and name.startswith(leave_out_under)):
                continue
            data = compiled.get(name)
            if data is not None:
                name = name[:-3] + ".pyc"
            else:
                data = source.read(info)
            write_stored(target, info, name, data)
            if not name.endswith("/"):
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                record.append(f"{name},sha256={digest},{len(data)}\n")
        if record_info is not None:
            record.append(f"{record_info.filename},,\n")
            write_stored(target, record_info, record_info.filename, "".join(record).encode())
    return out.getvalue()

