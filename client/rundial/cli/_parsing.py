"""The argparse building blocks: global flags accepted before *or* after any sub-command.

Every parser in the tree (top level, groups such as ``auth``, leaves such as ``auth whoami``)
gets the global flags from a parent parser whose defaults are ``argparse.SUPPRESS``; a flag that
is not given therefore never overwrites one given at another level. The export commands use
``--format`` for the file format (``json|csv|parquet``), so their parent has no ``--format``;
``--json`` (or ``--format json`` before the sub-command) still selects JSON output there.

Argparse errors raise :class:`UsageError` (exit 1) instead of exiting with status 2, so usage
errors and authentication failures never share an exit code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from rundial.cli._errors import CliError

__all__ = ["CliParser", "Handler", "ParserKit", "UsageError"]

Handler = Callable[..., int | None]
_S = argparse.SUPPRESS


class UsageError(CliError):
    """A command line argparse rejected; ``usage`` is the offending parser's usage text."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`UsageError` instead of calling ``sys.exit(2)``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", self.format_usage())


def _global_flags(with_format: bool) -> argparse.ArgumentParser:
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("global options")
    group.add_argument("--profile", default=_S, help="config profile to use")
    group.add_argument("--endpoint", default=_S, help="collector URL (env RUNDIAL_ENDPOINT)")
    group.add_argument("--api-key", default=_S, help="API key (env RUNDIAL_API_KEY)")
    group.add_argument("--workspace", default=_S, help="workspace slug (env RUNDIAL_WORKSPACE)")
    group.add_argument("--project", default=_S, help="project slug (env RUNDIAL_PROJECT)")
    if with_format:
        group.add_argument("--format", dest="output_format", choices=["human", "json"],
                           default=_S, help="output format")
    group.add_argument("--json", action="store_true", default=_S, help="JSON output, one line each")
    group.add_argument("--timeout", type=float, default=_S, help="HTTP timeout in seconds (30)")
    group.add_argument("--debug", action="store_true", default=_S, help="show tracebacks")
    group.add_argument("--quiet", action="store_true", default=_S, help="less human output")
    group.add_argument("--verbose", action="store_true", default=_S, help=_S)
    group.add_argument("--no-color", action="store_true", default=_S, help=_S)
    group.add_argument("--non-interactive", action="store_true", default=_S, help="never prompt")
    group.add_argument("--allow-plaintext-store", action="store_true", default=_S,
                       help="store secrets in config.toml (0600) without the keyring warning")
    return flags


class ParserKit:
    """Creates groups and commands that all carry the global flags."""

    def __init__(self) -> None:
        self.common = _global_flags(with_format=True)
        self.common_without_format = _global_flags(with_format=False)

    def root(self, prog: str, description: str) -> CliParser:
        """The top-level parser."""
        parser = CliParser(prog=prog, description=description, parents=[self.common])
        parser.set_defaults(help_parser=parser)
        return parser

    def group(self, parent: Any, name: str, help_text: str) -> Any:
        """A sub-command group (``auth``, ``run``…); returns its sub-parsers action."""
        parser = parent.add_parser(name, help=help_text, description=help_text,
                                   parents=[self.common])
        parser.set_defaults(help_parser=parser)
        return parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(self, parent: Any, name: str, help_text: str, handler: Handler,
                own_format: bool = False) -> CliParser:
        """A leaf command calling ``handler(ctx)``; ``own_format`` frees ``--format``."""
        common = self.common_without_format if own_format else self.common
        parser: CliParser = parent.add_parser(name, help=help_text, description=help_text,
                                              parents=[common])
        parser.set_defaults(handler=handler, help_parser=parser)
        return parser
