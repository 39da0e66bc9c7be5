"""The numpynn application: the command line on top of the library (the library never imports this)."""

from numpynn.cli.parser import main

__all__ = ["main"]
