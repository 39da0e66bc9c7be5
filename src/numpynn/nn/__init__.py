"""What a model is made of: pure functions, initialisers, layers, losses and Sequential."""
