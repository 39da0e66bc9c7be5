"""Gradient utilities in torch.nn.utils' vocabulary: clip_grad_norm_."""

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for the hints only
    from numpynn.nn.layers import Layer
    from numpynn.nn.sequential import Sequential


def clip_grad_norm_(model: "Sequential | Layer", max_norm: float, norm_type: float = 2.0) -> float:
    """Scale every gradient of `model` in place so that their joint norm is at most max_norm; returns the norm
    before clipping (torch.nn.utils.clip_grad_norm_: the factor is max_norm / (norm + 1e-6), applied if < 1)."""
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm_ needs max_norm > 0, got {max_norm}; e.g. 1.0.")
    grads = list(model.grads().values()) if hasattr(model, "grads") and callable(model.grads) else \
        list(model.grads.values())
    if not grads:
        return 0.0
    if norm_type == np.inf:
        total = max(float(np.abs(g).max()) for g in grads if g.size)
    else:
        total = float(sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads)) ** (1 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= g.dtype.type(coef)
    return total
