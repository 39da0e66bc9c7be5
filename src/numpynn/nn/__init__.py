"""What a model is made of: pure functions, initialisers, layers, losses and Sequential."""

from numpynn.nn.sequential import Sequential, cnn, mlp  # also numpynn.cnn: README's `nn.cnn` either way

__all__ = ["Sequential", "cnn", "mlp"]
