"""How parameters move: optimizers (in order of complexity), learning-rate schedules, the BLAS update path."""

from numpynn.optim.optimizers import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop
from numpynn.optim.schedules import SCHEDULERS, CosineAnnealingLR, LinearLR, SequentialLR, StepLR

__all__ = ["OPTIMIZERS", "SCHEDULERS", "SGD", "Adam", "AdamW", "CosineAnnealingLR", "LinearLR", "Optimizer",
           "RMSprop", "SequentialLR", "StepLR"]
