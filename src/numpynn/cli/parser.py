"""The numpynn command (also `python -m numpynn`): gathers the subcommands and turns errors into exit codes.

Each subcommand is a module with add_parser(subparsers) and run(args) -> exit code. A user's mistake
becomes one sentence and exit 2 here, at one place; a runtime failure exit 1.
"""

import argparse
import os
import sys

from numpynn import __version__
from numpynn.cli import evaluate, info, plot, predict, serve, sweep, train
from numpynn.errors import NumpynnError, TrainingDiverged

COMMANDS = [train, evaluate, predict, plot, info, serve, sweep]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numpynn", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train, evaluate and use NumPy neural networks on MNIST and your own digits.",
        epilog="examples:\n  numpynn train\n  numpynn evaluate runs/NAME\n  numpynn predict runs/NAME digit.png\n"
               "  numpynn plot runs/A runs/B\n  numpynn info runs/NAME\n  numpynn serve runs/NAME\n\n"
               "Run `numpynn COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"numpynn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 success, 1 runtime failure, 2 bad usage or input, 130/143 interrupted (SIGINT/SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.handler(args)
    except TrainingDiverged as exc:
        return _fail(str(exc), 1)
    except (NumpynnError, ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        return _fail(str(exc), 2)
    except BrokenPipeError:  # `numpynn info ... | head`: the reader left, which is not our error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # disk full, permission denied: the environment failed, not the input
        return _fail(f"{exc.strerror or exc} ({exc.filename or 'no file'}); files written so far are kept.", 1)
    except KeyboardInterrupt:
        return _fail("interrupted; files written so far are kept.", 130)


def _fail(message: str, code: int) -> int:
    print(f"numpynn: error: {message}", file=sys.stderr)
    return code
