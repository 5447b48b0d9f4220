#!/usr/bin/env python3
"""Generates the Python gRPC stubs of hubstats.v1 into client/python/hubstats/v1/.

    tools/generate_stubs.py            regenerate the committed stubs in place
    tools/generate_stubs.py --check    regenerate into a temporary directory and compare;
                                       exit 1 naming every file that differs from the protos

The stubs are made with `protoc` and the `grpc_python_plugin` of the machine (Debian ships no
grpc_tools module). Their imports read `from hubstats.v1 import ...`, which resolve inside this
package. Only protoc's outputs are compared; hubstats/v1/__init__.py is written by hand.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CLIENT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_PROTO_DIR = CLIENT_DIR.parents[1] / "proto"
DEFAULT_STUBS_DIR = CLIENT_DIR / "hubstats" / "v1"
PROTOS = ("hubstats/v1/hubstats.proto", "hubstats/v1/error_details.proto")
PLUGIN = "/usr/bin/grpc_python_plugin"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2_grpc.py")


def generate(proto_dir: Path, out_dir: Path, protoc: str, plugin: str) -> dict[str, Path]:
    """Runs protoc into `out_dir`; returns {file name: path} of the generated hubstats/v1 files."""
    subprocess.run(
        [protoc, f"-I{proto_dir}", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
         f"--plugin=protoc-gen-grpc={plugin}", *PROTOS],
        check=True)
    generated = out_dir / "hubstats" / "v1"
    return {path.name: path for path in sorted(generated.iterdir())}


def committed_stubs(stubs_dir: Path) -> dict[str, Path]:
    """The generated-looking files currently in `stubs_dir` ({name: path})."""
    if not stubs_dir.is_dir():
        return {}
    return {path.name: path for path in sorted(stubs_dir.iterdir())
            if path.name.endswith(GENERATED_SUFFIXES)}


def drifted_files(fresh: dict[str, Path], committed: dict[str, Path]) -> list[str]:
    """Messages naming each file that is missing, different or left over."""
    problems = []
    for name, path in fresh.items():
        if name not in committed:
            problems.append(f"{name}: missing")
        elif not filecmp.cmp(path, committed[name], shallow=False):
            problems.append(f"{name}: differs from what the protos generate")
    for name in committed.keys() - fresh.keys():
        problems.append(f"{name}: not generated from any proto (stale)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the committed stubs with freshly generated ones; change nothing")
    parser.add_argument("--proto-dir", type=Path, default=DEFAULT_PROTO_DIR,
                        help=f"root of the .proto files (default {DEFAULT_PROTO_DIR})")
    parser.add_argument("--stubs-dir", type=Path, default=DEFAULT_STUBS_DIR,
                        help=f"directory of the committed stubs (default {DEFAULT_STUBS_DIR})")
    parser.add_argument("--protoc", default=shutil.which("protoc") or "protoc")
    parser.add_argument("--plugin", default=PLUGIN, help=f"grpc_python_plugin (default {PLUGIN})")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="hubstats-stubs-") as temp:
        fresh = generate(args.proto_dir, Path(temp), args.protoc, args.plugin)
        committed = committed_stubs(args.stubs_dir)
        if args.check:
            problems = drifted_files(fresh, committed)
            if not problems:
                print(f"stubs in {args.stubs_dir} match {args.proto_dir}")
                return 0
            for problem in problems:
                print(f"{args.stubs_dir / problem}", file=sys.stderr)
            print("the Python stubs are out of date: run client/python/tools/generate_stubs.py "
                  "and commit the result", file=sys.stderr)
            return 1
        args.stubs_dir.mkdir(parents=True, exist_ok=True)
        for name in committed.keys() - fresh.keys():
            committed[name].unlink()
        for name, path in fresh.items():
            shutil.copyfile(path, args.stubs_dir / name)
            print(f"wrote {args.stubs_dir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
