"""The series' `neural_network.py` as Parts 1.2-2.2 publish it, reproduced from ../shared/series/README.md.

The series' own file for those parts is not available; two functions differ from Part 3.4's (the seed file):
Part 2.2's `gradient_descent(X, y, W, b, lr, num_iterations, loss_fn)` is full-batch linear regression, and
`normalize` divides through np.where instead of Part 2.3's mask (the same results). The rest is Part 3.4's.
"""

import numpy as np
from seed_neural_network import *  # noqa: F403  the functions that did not change


def normalize(X):
    mean = np.mean(X, axis=0)
    std = np.std(X, axis=0)
    std = np.where(std == 0, 1, std)  # a constant column: X - mean is 0 there, divide by 1
    return (X - mean) / std


def gradient_descent(X, y, W, b, lr, num_iterations, loss_fn):
    n = X.shape[0]
    loss_history = []
    for _ in range(num_iterations):
        y_pred = X @ W + b
        loss_history.append(loss_fn(y_pred, y))
        grad_W = X.T @ (y_pred - y) / n
        grad_b = np.mean(y_pred - y)
        W = W - lr * grad_W
        b = b - lr * grad_b
    return W, b, loss_history
