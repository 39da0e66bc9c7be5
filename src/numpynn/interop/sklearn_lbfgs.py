"""solver="lbfgs" for numpynn's scikit-learn estimators: SciPy's L-BFGS-B on the network's flat parameters.

As scikit-learn does it: scipy.optimize.minimize(method="L-BFGS-B", jac=True) with maxiter=max_iter,
maxfun=max_fun and gtol=tol, over one vector holding every weight in coefs_'s (in, out) orientation and
then every bias (scikit-learn's _pack order). The loss and its gradient come from the network's own
forward and backward over all rows (in chunks, so sparse X is densified a chunk at a time), plus alpha's
L2 term on the weights.
"""

from typing import TYPE_CHECKING

import numpy as np
import scipy.optimize
from numpy.typing import ArrayLike
from sklearn.utils.optimize import _check_optimize_result

from numpynn.interop.sklearn_network import PENALISED, dense_rows
from numpynn.nn.sequential import Sequential

if TYPE_CHECKING:  # for the hints only
    from numpynn.interop.sklearn_base import NumpynnMLP

CHUNK = 4096  # rows per forward/backward: bounds memory, and the densified rows of sparse X


def flat_slots(model: Sequential) -> list[tuple[object, str, bool]]:
    """(layer, parameter key, penalised) in scikit-learn's order: all weights first, then all biases."""
    slots = [(layer, key, type(layer).__name__ in PENALISED and key == "weight")
             for layer in model.layers for key in layer.params]
    return [s for s in slots if s[1] == "weight"] + [s for s in slots if s[1] != "weight"]


def _oriented(layer, array: np.ndarray) -> np.ndarray:
    """A Linear weight as coefs_ shows it, (in, out): a view; any other array as it is."""
    return array.T if type(layer).__name__ == "Linear" and array.ndim == 2 else array


def pack(model: Sequential, grads: bool = False) -> np.ndarray:
    """The parameters (or, with grads=True, their gradients) as one float64 vector."""
    source = "grads" if grads else "params"
    return np.concatenate([_oriented(layer, getattr(layer, source)[key]).ravel() for layer, key, _ in
                           flat_slots(model)]).astype(np.float64)


def unpack(model: Sequential, theta: np.ndarray) -> None:
    """Write the vector theta back into the network's parameters, in place."""
    start = 0
    for layer, key, _ in flat_slots(model):
        view = _oriented(layer, layer.params[key])
        view[...] = theta[start:start + view.size].reshape(view.shape)
        start += view.size


def penalised_mask(model: Sequential) -> np.ndarray:
    """True at the positions of theta that alpha's L2 term covers (weights, never biases)."""
    return np.concatenate([np.full(layer.params[key].size, penalised) for layer, key, penalised in
                           flat_slots(model)])


def loss_grad(theta: np.ndarray, est: "NumpynnMLP", X: ArrayLike, Y: np.ndarray,
              sample_weight: np.ndarray | None) -> tuple[float, np.ndarray]:
    """scikit-learn's objective at theta, mean loss + alpha / 2 ||W||^2 / total, and its gradient (float64)."""
    model, loss_fn = est.model_, est._loss_fn
    unpack(model, theta)
    n = X.shape[0]
    total = float(n if sample_weight is None else np.sum(sample_weight))
    loss, grad = 0.0, np.zeros_like(theta)
    for start in range(0, n, CHUNK):
        rows = slice(start, start + CHUNK)
        wb = None if sample_weight is None else sample_weight[rows]
        share = (min(n, start + CHUNK) - start if wb is None else float(np.sum(wb))) / total
        if share <= 0:  # rows of weight 0 only: they add nothing
            continue
        loss += share * loss_fn.forward(model.forward(dense_rows(X, rows, model.dtype)), Y[rows], wb)
        model.backward(loss_fn.backward() * model.dtype.type(share))
        grad += pack(model, grads=True)
    weights = theta * est._penalised
    loss += 0.5 * est.alpha * float(np.dot(weights, weights)) / total
    grad += est.alpha / total * weights
    return loss, grad


def fit_lbfgs(est: "NumpynnMLP", X: ArrayLike, Y: np.ndarray, sample_weight: np.ndarray | None) -> None:
    """Minimise the objective with L-BFGS-B from the current weights; sets n_iter_, loss_ and loss_curve_."""
    model = est.model_
    model.train()
    est._penalised = penalised_mask(model)

    def record(intermediate_result):
        est.loss_curve_.append(float(intermediate_result.fun))
        if est.verbose:
            print(f"Iteration {len(est.loss_curve_)}, loss = {intermediate_result.fun:.8f}")

    result = scipy.optimize.minimize(loss_grad, pack(model), args=(est, X, Y, sample_weight), method="L-BFGS-B",
                                     jac=True, callback=record,
                                     options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol})
    est.n_iter_ = _check_optimize_result("lbfgs", result, est.max_iter)
    est.loss_ = float(result.fun)
    unpack(model, result.x)
