"""The one command line for moodcam's offline work (`python3 build.py --help`).

`site` and `serve` need only python3, pip and npm. The other commands run in
the development environment `.venv`, which they create on first use.
"""
from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

from .errors import BuildError
from .paths import DIST, REPO, cache_dir

TEST_DIST = REPO / "build" / "test-dist"


def _cmd_site(args: argparse.Namespace) -> int:
    from .site.assemble import build_site

    build_site(Path(args.dest).resolve(), with_test_wheels=args.with_test_wheels)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .site.assemble import build_site
    from .site.serve import serve_forever

    dest = Path(args.dest).resolve()
    if not args.no_build:
        build_site(dest)
    serve_forever(dest, args.host, args.port, https=args.https, cert_dir=cache_dir() / "certs")
    return 0


# Commands that need the heavy extras: (module, function) run inside .venv.
DEV_ENV_COMMANDS = {
    "models": ("moodcam_tools.convert.cli", "main",
               "regenerate models/ from their source packages (TensorFlow, in .venv)"),
    "train-detector": ("moodcam_tools.train.cli", "train_main",
                       "train an SSD-style detector (pretrained MobileNetV2 by default) on a VOC/YOLO/CSV dataset and "
                       "export it to TF.js "
                       "(in .venv)"),
    "eval-detector": ("moodcam_tools.train.cli", "eval_main",
                      "COCO AP/AR of a trained detector on a dataset folder (in .venv)"),
    "split-detector-data": ("moodcam_tools.train.cli", "split_main",
                            "train / validation / test lists of a detection dataset, by file with a fixed seed "
                            "(in .venv)"),
    "make-tree-set": ("moodcam_tools.train.cli", "tree_set_main",
                      "a one-class VOC set of tree crowns (DeepForest's NEON photos, MIT) in 256 px tiles, to "
                      "check the trainer's defaults on another kind of object (in .venv)"),
    "bench": ("bench.cli", "main",
              "benchmark the app against its JS floor and peer libraries in headless Chromium (in .venv)"),
}


def _cmd_in_dev_env(args: argparse.Namespace, rest: list[str]) -> int:
    """Run the command's entry point inside .venv, creating it first if needed."""
    from .envs import DEV_ENV, ensure_env

    if Path(sys.prefix).resolve() != DEV_ENV.path.resolve():
        python = ensure_env(DEV_ENV)
        return subprocess.call([str(python), str(REPO / "build.py"), args.command, *rest])
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # TF 2.19 segfaults in predict otherwise
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")   # its banner imports IPython off a terminal
    sys.path.insert(0, str(REPO))                        # for the bench package at the repo root
    module_name, function, _help = DEV_ENV_COMMANDS[args.command]
    module = importlib.import_module(module_name)
    return getattr(module, function)(rest)


def _cmd_test(args: argparse.Namespace, rest: list[str]) -> int:
    from .envs import DEV_ENV, MEDIAPIPE_ENV, ensure_debian_packages, ensure_env
    from .site.assemble import build_site

    ensure_debian_packages()
    python = ensure_env(DEV_ENV)
    if not args.quick:
        ensure_env(MEDIAPIPE_ENV)
    # The page as a person gets it, and a superset for pytest-pyodide (pytest,
    # hypothesis... inside Pyodide); both built fresh so tests see this checkout.
    build_site(DIST)
    build_site(TEST_DIST, with_test_wheels=True, quiet=True)
    env = {**os.environ,
           "SE_CHROMEDRIVER": "/usr/bin/chromedriver",   # keep Selenium Manager off the network
           "TF_ENABLE_ONEDNN_OPTS": "0",
           "TF_CPP_MIN_LOG_LEVEL": "2",
           "TFDF_DISABLE_WELCOME_MESSAGE": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    from .site.pyodide_dist import PYODIDE_VERSION

    # pytest-pyodide serves the Pyodide folder itself (it holds the moodcam wheel in the test dist).
    pyodide_dir = TEST_DIST / "vendor" / f"pyodide-{PYODIDE_VERSION}"
    command = [str(python), "-m", "pytest", "-p", "no:cacheprovider",
               "--runtime=chrome", f"--dist-dir={pyodide_dir}"]
    if args.quick:
        command += ["-m", "not convert and not e2e and not mediapipe"]
    command += rest
    print("running:", " ".join(command[2:]))
    code = subprocess.call(command, cwd=REPO, env=env)
    if code == 5:
        print("error: pytest collected no tests; that is a failure, not a pass", file=sys.stderr)
        return 1
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build.py", description="moodcam's offline work: build, serve, convert models, test.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    site = sub.add_parser("site", help="assemble the static site into dist/ (npm ci, verified Pyodide wheels, "
                                       "TF.js, the moodcam wheel, models)")
    site.add_argument("--dest", default=str(DIST), help="output folder (default: dist/); replaced only "
                                                         "when the build succeeds")
    site.add_argument("--with-test-wheels", action="store_true",
                      help="also ship pytest, hypothesis and friends for in-browser tests (never for deployment)")
    site.set_defaults(handler=_cmd_site)

    serve = sub.add_parser("serve", help="build the site, then serve it (COOP/COEP, application/wasm)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; "
                                                           "with --https: all interfaces)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--https", action="store_true",
                       help="serve over https with a self-signed certificate for this machine's LAN address, "
                            "so a phone can use its camera (the browser will warn about the certificate)")
    serve.add_argument("--no-build", action="store_true", help="serve the existing folder without rebuilding")
    serve.add_argument("--dest", default=str(DIST), help="folder to build and serve (default: dist/)")
    serve.set_defaults(handler=_cmd_serve)

    # Their options are parsed by the entry point itself, inside .venv.
    for name, (_module, _function, summary) in DEV_ENV_COMMANDS.items():
        command = sub.add_parser(name, add_help=False, help=f"{summary}; `build.py {name} --help` for options")
        command.set_defaults(handler=_cmd_in_dev_env, passthrough=True)

    test = sub.add_parser("test", help="set up what is missing, build, and run every test tier "
                                       "(CPython, Pyodide in Chromium, end-to-end); extra args go to pytest")
    test.add_argument("--quick", action="store_true",
                      help="skip the slow tiers (model conversion, MediaPipe parity, end-to-end)")
    test.set_defaults(handler=_cmd_test, passthrough=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    try:
        if getattr(args, "passthrough", False):
            return args.handler(args, rest)
        if rest:
            parser.error(f"unrecognised arguments: {' '.join(rest)}")
        return args.handler(args)
    except BuildError as error:
        print(error.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
