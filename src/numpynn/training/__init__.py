"""The training loop (fit), its callbacks, the state a resume needs, and signal handling."""
