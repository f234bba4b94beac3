"""``rundial-spool``: inspect, verify, replay, compact, quarantine and export a spool directory.

Everything except ``replay`` works offline, with no server. Global flags (``--spool-dir``,
``--json``, ``--debug``, ``--quiet``) are accepted before or after the sub-command. Exit codes
follow ``rundial``: 0 success, 1 error (including "``verify`` found bad files"), 2 an
authentication or authorisation failure during ``replay``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rundial._config import default_spool_directory
from rundial.cli._boundary import guarded
from rundial.cli._errors import EXIT_ERROR, EXIT_OK
from rundial.cli._output import Output
from rundial.cli._parsing import CliParser
from rundial_spool import _commands

__all__ = ["VERSION", "build_parser", "main"]

VERSION = "0.1.0"
_S = argparse.SUPPRESS


def _globals() -> argparse.ArgumentParser:
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("global options")
    group.add_argument("--spool-dir", default=_S,
                       help="spool directory (default $RUNDIAL_SPOOL_DIR or ~/.cache/rundial/spool)")
    group.add_argument("--json", action="store_true", default=_S, help="JSON output")
    group.add_argument("--debug", action="store_true", default=_S, help="show tracebacks")
    group.add_argument("--quiet", action="store_true", default=_S, help="less human output")
    return flags


def build_parser() -> CliParser:
    """The ``rundial-spool`` command tree."""
    common = _globals()
    root = CliParser(prog="rundial-spool", parents=[common],
                     description="inspect, verify, repair and replay a rundial spool directory")
    root.add_argument("--version", action="version", version=f"rundial-spool {VERSION}")
    root.set_defaults(help_parser=root)
    commands = root.add_subparsers(title="commands", metavar="COMMAND")

    def add(parent: Any, name: str, text: str, handler: Any = None) -> CliParser:
        parser: CliParser = parent.add_parser(name, help=text, description=text, parents=[common])
        parser.set_defaults(help_parser=parser, **({"handler": handler} if handler else {}))
        return parser

    _commands.register(add, commands)
    return root


def spool_root(args: argparse.Namespace) -> Path:
    """``--spool-dir``, else the SDK's default spool directory."""
    return Path(getattr(args, "spool_dir", None) or default_spool_directory()).expanduser()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``rundial-spool`` command; returns 0, 1 or 2 and never raises."""
    argv = list(sys.argv[1:] if argv is None else argv)
    output = Output(json_mode="--json" in argv)
    return guarded(lambda: _run(argv, output), output, "--debug" in argv)


def _run(argv: list[str], output: Output) -> int:
    args = build_parser().parse_args(argv)
    output.quiet = bool(getattr(args, "quiet", False))
    handler = getattr(args, "handler", None)
    if handler is None:
        args.help_parser.print_help(output.err if argv else output.out)
        return EXIT_ERROR if argv else EXIT_OK
    return int(handler(args, spool_root(args), output) or EXIT_OK)
