"""The common wrong versions of the series' functions, each with the one line that names the mistake.

When a learner's result differs from numpynn's, it is compared with what each mistake below would have
returned on the same input (the same global seed for dropout): a match names the mistake. Mistakes that show
in any function (a transposed or negated result, a missing / n, NaN from overflow) are in diagnose.py.
"""

import contextlib
import io
from collections.abc import Callable

import numpy as np

import neural_network as ref
from numpynn.app.commands.article import seed_global

Mistake = tuple[str, Callable]


def _rows_softmax(Z):
    return ref.softmax(np.asarray(Z, dtype=float).T).T


def _descent_uphill(X, y, W, b, lr, *rest):
    return ref.gradient_descent(X, y, W, b, -lr, *rest)


def _dropout_drop_probability(A, p, training=True):
    return ref.dropout(A, 1 - p, training)  # p taken as the drop probability: the series' draw of the other mask


def _relu_derivative_at_zero(X, A1, A2, y, W1, W2, Z1):
    return ref.backward_mlp(X, A1, A2, y, W1, W2, np.where(Z1 == 0, 1.0, Z1))


def _numerical_over_h(X, y, params, loss_fn, forward_fn, h=1e-4):
    return {k: 2 * g for k, g in ref.numerical_gradient(X, y, params, loss_fn, forward_fn, h).items()}


def _l2_grad_without_2(weights, lambda_):
    penalty, _ = ref.l2_regularization(weights, lambda_)
    return penalty, [lambda_ * W for W in weights]


def _l2_half_penalty(weights, lambda_):
    penalty, grads = ref.l2_regularization(weights, lambda_)
    return penalty / 2, grads


def _normalize_ddof1(X):
    std = np.std(X, axis=0, ddof=1)
    return (X - X.mean(axis=0)) / np.where(std == 0, 1, std)


MISTAKES: dict[str, list[Mistake]] = {
    "normalize": [("normalized each row instead of each column: take the mean and std over axis=0 (per feature)",
                   lambda X: ref.normalize(X.T).T),
                  ("the std has ddof=1: the series uses np.std's default, ddof=0", _normalize_ddof1)],
    "sigmoid": [("sign error: sigmoid is 1 / (1 + np.exp(-Z)), with the minus", lambda Z: 1 / (1 + np.exp(Z)))],
    "relu": [("relu returns the ReLU derivative (Z > 0); it is np.maximum(0, Z)", lambda Z: (Z > 0) * 1.0)],
    "softmax": [("softmax normalized over the wrong axis: sum each row (axis=1, keepdims=True)", _rows_softmax),
                ("softmax without keepdims divides the wrong way: sum with axis=1, keepdims=True",
                 lambda Z: np.exp(Z - Z.max(axis=1, keepdims=True)) / np.exp(Z - Z.max(axis=1, keepdims=True)).sum())],
    "backward_mlp": [("the ReLU derivative at 0 is 0: use (Z1 > 0), not (Z1 >= 0)", _relu_derivative_at_zero)],
    "gradient_descent": [("sign error: step against the gradient, W = W - lr * grad_W (and b likewise)",
                          _descent_uphill)],
    "numerical_gradient": [("the central difference is (loss(w + h) - loss(w - h)) / (2 * h): divide by 2 * h, "
                            "not h", _numerical_over_h)],
    "conv2d": [("cross-correlation: the series' conv2d is a true convolution (scipy.signal.convolve2d): "
                "flip the kernel, kernel[::-1, ::-1]",
                lambda image, k, stride=1: ref.conv2d(image, k[::-1, ::-1], stride)),
               ("the stride is ignored: keep every stride-th row and column, [::stride, ::stride]",
                lambda image, k, stride=1: ref.conv2d(image, k, 1))],
    "max_pool": [("the channel axis of size 1 is kept: the series returns a 2-D result for (H, W, 1)",
                  lambda X, size=2, stride=2: ref.max_pool(X, size, stride)[..., None])],
    "l2_regularization": [("the gradient of lambda_ * W**2 is 2 * lambda_ * W: the factor 2 is missing",
                           _l2_grad_without_2),
                          ("the penalty is lambda_ * sum(W**2), without a factor 1/2", _l2_half_penalty)],
    "dropout": [("dropout rescaled by 1/p where the series' is not: return A * mask",
                 lambda A, p, training=True: ref.dropout(A, p, training) / p if training else A),
                ("p is the KEEP probability: the mask is binomial(1, p) draws of A's shape, 1 = keep",
                 _dropout_drop_probability)],
    "momentum_update": [("momentum's velocity sign: new_velocity = mu * velocity - lr * gradient (then W += update)",
                         lambda v, g, mu, lr: (mu * v + lr * g, mu * v + lr * g)),
                        ("momentum's velocity sign: new_velocity = mu * velocity - lr * gradient (then W += update)",
                         lambda v, g, mu, lr: (-(mu * v) - lr * g, -(mu * v) - lr * g))],
}


def which_mistake(name: str, got: object, args: tuple, kwargs: dict, same: Callable[[object, object], bool],
                  seed: int | None) -> str | None:
    """The hint of the first known mistake of `name` whose result on (args, kwargs) equals `got`, else None."""
    for hint, wrong in MISTAKES.get(name, []):
        try:
            expected = call(wrong, args, kwargs, seed)
        except Exception:  # a mistake that cannot even run on this input is not the learner's
            continue
        if same(got, expected):
            return hint
    return None


def call(fn: Callable, args: tuple, kwargs: dict, seed: int | None) -> object:
    """fn(*args, **kwargs) with its prints swallowed, NumPy's warnings off and, given a seed, the global random
    state seeded as the article runner seeds it (seed_global): the series' dropout, and so the learner's, draws
    from it. Only the child that grades a learner's file runs this.
    """
    if seed is not None:
        seed_global(seed)
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        return fn(*args, **kwargs)
