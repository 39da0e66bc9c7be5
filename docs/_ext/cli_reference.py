"""`.. cli-reference::`: every `numpynn` subcommand's --help, taken from the real parser at build time."""

import argparse
import importlib
import os

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


def build_parser() -> argparse.ArgumentParser:
    """The `numpynn` parser, as the command builds it."""
    return importlib.import_module("numpynn.app.commands.parser").build_parser()


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """{name: parser} of the subcommands, in the order `numpynn --help` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


class CliReference(SphinxDirective):
    has_content = False

    def run(self):
        parser = build_parser()
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        result = [nodes.literal_block(text=_help(parser), language="text")]
        for name, sub in subcommands(parser).items():
            section = nodes.section(ids=[f"numpynn-{name}"], names=[f"numpynn {name}"])
            section += nodes.title(text=f"numpynn {name}")
            section += nodes.literal_block(text=_help(sub), language="text")
            self.state.document.note_implicit_target(section)
            result.append(section)
        return result


def _help(parser: argparse.ArgumentParser) -> str:
    """The parser's --help at a fixed width of 100 columns, whatever the terminal building the docs."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_help()
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def setup(app):
    app.add_directive("cli-reference", CliReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
