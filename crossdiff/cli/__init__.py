"""The ``crossdiff`` command line: thin wrappers that parse, call the library and format.

Exit codes: 0 success, 2 bad input (:class:`crossdiff.errors.InputError`, argparse usage
errors), 3 numerical failure (:class:`crossdiff.errors.NumericalError`). Errors are printed as
one line ``crossdiff: error: ...`` on standard error, never as a traceback.

Each subcommand lives in its own module with ``register(subparsers)``, which adds a parser whose
``func(args) -> int`` runs the command.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from ..errors import InputError, NumericalError

__all__ = ["main", "EXIT_OK", "EXIT_INPUT", "EXIT_NUMERICAL"]

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_NUMERICAL = 3
EXIT_INTERNAL = 1

#: Subcommand modules, in the order ``crossdiff --help`` lists them.
_COMMANDS = ("models", "show", "run", "plot", "derive", "converge", "stability", "continue_", "blowup", "sweep")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"crossdiff: error: {message}\n")
        raise SystemExit(EXIT_INPUT)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered subcommand."""
    import importlib

    from ..version import __version__

    parser = _Parser(prog="crossdiff", description="Cross-diffusion models of living systems, kinetic and macroscopic.")
    parser.add_argument("--version", action="version", version=f"crossdiff {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as err:
            if err.name == f"{__name__}.{name}":
                continue  # a subcommand not built yet
            raise
        module.register(sub)
    return parser


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crossdiff`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        with warnings.catch_warnings():
            if not os.environ.get("CROSSDIFF_DEBUG"):
                # NumPy's overflow/invalid-value warnings are multi-line noise on stderr; the
                # solver detects non-finite values itself and reports them in one line
                warnings.simplefilter("ignore", RuntimeWarning)
            return int(args.func(args) or 0)
    except InputError as err:
        sys.stderr.write(f"crossdiff: error: {_one_line(err)}\n")
        return EXIT_INPUT
    except NumericalError as err:
        sys.stderr.write(f"crossdiff: numerical failure: {_one_line(err)}\n")
        return EXIT_NUMERICAL
    except MemoryError as err:  # e.g. --grid 100000x100000: the user asked for too much
        detail = _one_line(err) if str(err) else "out of memory"
        sys.stderr.write(f"crossdiff: error: not enough memory (grid too large?): {detail}\n")
        return EXIT_INPUT
    except BrokenPipeError:  # e.g. `crossdiff run ... --json | head`: not an internal error
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141
    except KeyboardInterrupt:
        sys.stderr.write("crossdiff: interrupted\n")
        return 130
    except Exception as err:  # a bug: still one line, unless CROSSDIFF_DEBUG asks for the traceback
        if os.environ.get("CROSSDIFF_DEBUG"):
            raise
        sys.stderr.write(
            f"crossdiff: internal error: {type(err).__name__}: {_one_line(err)} (set CROSSDIFF_DEBUG=1 for details)\n"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
