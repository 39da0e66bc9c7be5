"""The numpynn application: the command line on top of the library (the library never imports this)."""

from numpynn.app.commands.parser import main

__all__ = ["main"]
