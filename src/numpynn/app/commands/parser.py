"""The numpynn command (also `python -m numpynn`): gathers the subcommands and turns errors into exit codes.

Each subcommand is a module with add_parser(subparsers) and run(args) -> exit code. A user's mistake
becomes one sentence and exit 2 here, at one place; a runtime failure exit 1.
"""

import argparse
import difflib
import errno
import os
import sys

from numpynn import __version__, threads
from numpynn.app.commands import check, evaluate, export, info, plot, predict, serve, sweep, train
from numpynn.errors import NumpynnError, TrainingDiverged
from numpynn.io.atomic import path_problem

COMMANDS = [train, evaluate, predict, plot, info, export, serve, sweep, check]


class Parser(argparse.ArgumentParser):
    """argparse without prefix matching (`--epoch` is not silently `--epochs`), suggesting the closest option.

    Subcommand parsers are made of this class too (add_subparsers(parser_class=Parser)), so every command,
    present and future, gets the same rules.
    """

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False  # a prefix that works today breaks the day an option shares it
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        unknown = [a for a in extras if a.startswith("-")]
        if unknown and self._subparsers is not None:
            # The command's own parser knows its options: it names them in the message.
            chosen = getattr(namespace, "command", None)
            command = self._subparsers._group_actions[0].choices.get(chosen) if chosen else None
            (command or self).error(self.unrecognized_message(command or self, extras, unknown[0]))
        return namespace, extras

    @staticmethod
    def unrecognized_message(parser, extras, option) -> str:
        known = [s for action in parser._actions for s in action.option_strings if s.startswith("--")]
        near = difflib.get_close_matches(option.split("=", 1)[0], known, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]}?" if near else f"; see `{parser.prog} --help` for the options"
        return f"unrecognized arguments: {' '.join(extras)}{hint}"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="numpynn", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train, evaluate and use NumPy neural networks on MNIST and your own digits.",
        epilog="examples:\n  numpynn train\n  numpynn evaluate runs/NAME\n  numpynn predict runs/NAME digit.png\n"
               "  numpynn plot runs/A runs/B\n  numpynn info runs/NAME\n  numpynn serve runs/NAME\n"
               "  numpynn check my_neural_network.py\n\n"
               "Run `numpynn COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"numpynn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
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
        # The one thread policy (numpynn.threads): --threads where the command has it, else NUMPYNN_THREADS, else 1.
        with threads.limit(getattr(args, "threads", None)):
            return args.handler(args)
    except TrainingDiverged as exc:
        return _fail(str(exc), 1)
    except (NumpynnError, ValueError) as exc:
        return _fail(str(exc), 2)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:  # a path the user gave
        return _fail(os_error_sentence(exc), 2)
    except BrokenPipeError:  # `numpynn info ... | head`: the reader left, which is not our error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # disk full, permission denied: the environment failed, not the input
        return _fail(f"{os_error_sentence(exc).rstrip('.')}; files written so far are kept.", 1)
    except KeyboardInterrupt:
        return _fail("interrupted; files written so far are kept.", 130)


def os_error_sentence(exc: OSError) -> str:
    """An OSError as one sentence naming its file: never "[Errno 21] ...: 'x'" or "(no file)" (issue 26.12)."""
    if exc.strerror is None:  # raised with a sentence of our own: FileNotFoundError("Dataset x does not exist; ...")
        return str(exc)
    name = exc.filename
    if name is not None and exc.errno in (errno.EISDIR, errno.ENOTDIR):
        # Our atomic writes word these already; the OS's own ("Not a directory") get the same words.
        problem = exc.strerror if exc.strerror != os.strerror(exc.errno) else path_problem(name)
        if problem:
            return f"{os.fspath(name)} {problem}."
    return f"{exc.strerror} ({os.fspath(name)})." if name is not None else f"{exc.strerror}."


def _fail(message: str, code: int) -> int:
    print(f"numpynn: error: {message}", file=sys.stderr)
    return code
