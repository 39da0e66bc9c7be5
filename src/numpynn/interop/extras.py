"""Optional dependencies: import one on demand, or say in one sentence which extra installs it."""

import importlib
from types import ModuleType

from numpynn.errors import NumpynnError


class MissingExtra(NumpynnError, ImportError):
    """An optional package is not installed; the message names the `pip install numpynn[...]` that adds it."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """The imported module, or MissingExtra naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{purpose} needs the {module.split('.')[0]} package, which is not installed; "
                           f"install it with `pip install numpynn[{extra}]`.") from None
