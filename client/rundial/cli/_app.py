"""The ``rundial`` command line: the argparse tree and the error boundary.

Contract of :func:`main`: parse ``argv``, run one command, return 0, 1 or 2 — never raise,
never print a traceback unless ``--debug``. Expected failures are :class:`CliError`; anything
else is reported as one line ("unexpected error …") with exit code 1. ``--json`` may appear
anywhere (it is removed before parsing, as in the published CLI) and every other global flag
may come before or after the sub-command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from rundial._version import __version__
from rundial.cli import (_commands_auth, _commands_doctor, _commands_init, _commands_logs,
                         _commands_metrics, _commands_runs, _commands_sync, _commands_target)
from rundial.cli import _commands_evals
from rundial.cli._boundary import guarded
from rundial.cli._config import ConfigStore
from rundial.cli._context import Context
from rundial.cli._errors import EXIT_ERROR, EXIT_OK
from rundial.cli._output import Output
from rundial.cli._parsing import CliParser, ParserKit

__all__ = ["build_parser", "main"]

_GROUPS = (_commands_init, _commands_auth, _commands_target, _commands_runs, _commands_metrics,
           _commands_logs, _commands_evals, _commands_sync, _commands_doctor)


def build_parser() -> CliParser:
    """The whole command tree."""
    kit = ParserKit()
    root = kit.root("rundial", "rundial: operate, query, export and sync experiment runs")
    root.add_argument("--version", action="version", version=f"rundial {__version__}")
    commands = root.add_subparsers(title="commands", metavar="COMMAND")
    for module in _GROUPS:
        module.register(kit, commands)
    return root


def _split_json_flag(argv: list[str]) -> tuple[list[str], bool]:
    """Remove every ``--json`` before a ``--`` separator; report whether one was present."""
    end = argv.index("--") if "--" in argv else len(argv)
    kept = [a for a in argv[:end] if a != "--json"] + argv[end:]
    return kept, len(kept) != len(argv)


def _wants_json(argv: list[str], forced: bool) -> bool:
    """JSON output before parsing succeeded: ``--json`` or ``--format json`` anywhere."""
    pairs = zip(argv, argv[1:] + [""])
    return forced or any(a == "--format=json" or (a == "--format" and b == "json")
                         for a, b in pairs)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``rundial`` command; returns the process exit code (0, 1 or 2)."""
    raw = list(sys.argv[1:] if argv is None else argv)
    args_list, forced_json = _split_json_flag(raw)
    output = Output(json_mode=_wants_json(args_list, forced_json))
    return guarded(lambda: _run(build_parser(), args_list, forced_json, output), output,
                   "--debug" in args_list)


def _run(parser: CliParser, argv: list[str], forced_json: bool, output: Output) -> int:
    args = parser.parse_args(argv)
    config = ConfigStore()
    profile = config.profile(getattr(args, "profile", None) or
                             os.environ.get("RUNDIAL_PROFILE") or None)
    fmt = getattr(args, "output_format", None) or profile.default_format
    output.json_mode = forced_json or fmt == "json"
    output.quiet = bool(getattr(args, "quiet", False))
    if config.load_error:
        output.warn(f"ignoring {config.path}: {config.load_error}")
    if config.tightened_mode:
        output.warn(f"{config.path} was readable by others; its mode is now 0600")
    handler = getattr(args, "handler", None)
    if handler is None:
        args.help_parser.print_help(output.err if argv else output.out)
        return EXIT_ERROR if argv else EXIT_OK
    handler(Context(args, output, config))
    return EXIT_OK
