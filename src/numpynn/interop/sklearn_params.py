"""Validation of the scikit-learn estimators' parameters: one sentence per wrong value, raised at fit."""

import numbers
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import DTypeLike

from numpynn.interop.sklearn_conv import conv_channels
from numpynn.interop.sklearn_network import activation_name

if TYPE_CHECKING:  # for the hints only
    from numpynn.interop.sklearn_base import NumpynnMLP

SOLVERS = ("adam", "sgd", "lbfgs")
LEARNING_RATES = ("constant", "invscaling", "adaptive")
DTYPES = (None, "float32", "float64")


def _bad(est, name: str, wanted: str):
    raise ValueError(f"{name}={getattr(est, name)!r} is invalid; it must be {wanted}.")


def _is_int(value, low: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def dtype_name(dtype: DTypeLike | str | None) -> str | None:
    """'float32' for "float32", np.float32 or np.dtype("float32"); None for None; repr for the unknown."""
    if dtype is None:
        return None
    try:
        return str(np.dtype(dtype))
    except TypeError:
        return repr(dtype)


def _check_choices(est) -> None:
    if est.solver not in SOLVERS:
        _bad(est, "solver", "'adam', 'sgd' or 'lbfgs'")
    if est.learning_rate not in LEARNING_RATES:
        _bad(est, "learning_rate", "'constant', 'invscaling' or 'adaptive'")
    activation_name(est.activation)
    if dtype_name(est.dtype) not in DTYPES:
        _bad(est, "dtype", "None (the input's float dtype), 'float32' or 'float64'")
    if est.conv is not None:
        conv_channels(est.conv)
    if est.solver == "lbfgs" and est.dropout:
        _bad(est, "dropout", "0 with solver='lbfgs' (L-BFGS needs the same loss at every evaluation)")


def _check_numbers(est) -> None:
    for name, low in (("alpha", 0), ("learning_rate_init", 1e-300), ("tol", 0), ("epsilon", 1e-300),
                      ("power_t", 0)):
        value = getattr(est, name)
        if not isinstance(value, numbers.Real) or not value >= low:
            _bad(est, name, "a number >= 0" if low == 0 else "a positive number")
    for name in ("max_iter", "max_fun"):
        if not _is_int(getattr(est, name), 1):
            _bad(est, name, "an int >= 1")
    if not (_is_int(est.n_iter_no_change, 1) or est.n_iter_no_change == np.inf):
        _bad(est, "n_iter_no_change", "an int >= 1 or np.inf (never stop early)")
    if est.batch_size != "auto" and not _is_int(est.batch_size, 1):
        _bad(est, "batch_size", "'auto' or an int >= 1")
    for name, low, high in (("momentum", 0, 1), ("beta_1", 0, 1 - 1e-12), ("beta_2", 0, 1 - 1e-12),
                            ("dropout", 0, 1 - 1e-12)):
        value = getattr(est, name)
        if not isinstance(value, numbers.Real) or not low <= value <= high:
            _bad(est, name, f"a number in [{low}, {high if high == 1 else 1})")
    if not isinstance(est.validation_fraction, numbers.Real) or not 0 < est.validation_fraction < 1:
        _bad(est, "validation_fraction", "a number strictly between 0 and 1")


def check_params(est: "NumpynnMLP") -> None:
    """Raise a ValueError naming the first invalid parameter (scikit-learn never validates in __init__)."""
    _check_choices(est)
    sizes = est.hidden_layer_sizes
    sizes = (sizes,) if isinstance(sizes, numbers.Integral) else sizes
    if isinstance(sizes, str) or not hasattr(sizes, "__iter__") or not all(_is_int(s, 1) for s in sizes):
        _bad(est, "hidden_layer_sizes", "a tuple of positive ints such as (100,)")
    _check_numbers(est)
    loss = getattr(est, "loss", "squared_error")
    if loss not in ("squared_error", "poisson"):
        _bad(est, "loss", "'squared_error' or 'poisson'")


def hidden_sizes(est: "NumpynnMLP") -> tuple[int, ...]:
    """hidden_layer_sizes as a tuple of ints (scikit-learn also takes a single int)."""
    sizes = est.hidden_layer_sizes
    return (int(sizes),) if isinstance(sizes, numbers.Integral) else tuple(int(s) for s in sizes)
