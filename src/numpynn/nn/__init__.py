"""What a model is made of: pure functions, initialisers, layers, losses and Sequential."""

from numpynn.nn.models import cnn, mlp
from numpynn.nn.sequential import Sequential  # also numpynn.cnn: README's `nn.cnn` either way

__all__ = ["Sequential", "cnn", "mlp"]
