"""The ``maskaudit`` command line: one subcommand per module in this package.

Each module ``maskaudit/cli/<name>.py`` defines ``register(subparsers)``, which adds its parser and
sets ``func`` (called with the parsed arguments, returning an exit code). Modules are discovered, so a
stage adds its command without touching this file, and heavy dependencies load only for the
subcommand that runs.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from maskaudit import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maskaudit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"maskaudit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
