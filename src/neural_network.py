"""The series' `neural_network.py`, its 21 functions with their names, arguments and float64 results,
as a thin facade over numpynn: the math lives once, in numpynn; only the series' own formulas stay here.

The first 13 are from "Learn Deep Learning with NumPy, Part 3.4: Backpropagation for Training MLPs"; Parts
4.1-4.5 add eight (a 3-layer MLP, conv2d, max_pool, L2, dropout, momentum, accuracy); conv2d and
max_pool are numpynn.nn.functional's conv2d (the im2col and GEMM its Conv2d layer runs) and max_pool2d.
Weights keep the series' layout, (n_features, n_hidden); numpynn's Linear stores the transpose, as PyTorch
does, so the facade hands numpynn transposed views (no copies).
"""

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from numpynn.data.transforms import scale
from numpynn.gradcheck import numerical_gradient as _numerical_gradient
from numpynn.metrics import accuracy as _accuracy
from numpynn.nn import functional as F

Array = NDArray[np.floating]  # the article's arrays: float64 unless given otherwise


def normalize(X: Array) -> Array:
    """Per-feature z-score of X (n_samples, n_features): subtract each column's mean, divide by its std where non-zero.

    A constant column (std 0) stays at 0. Parts 1.2-2.2 published this with np.where, Part 2.3 on with a mask
    of the non-zero stds; both give these results. X itself is not changed.
    """
    X = np.asarray(X)
    return scale(X, "zscore", dtype=X.dtype if X.dtype.kind == "f" else np.float64)


def matrix_multiply(X: Array, W: Array) -> Array:
    """X (m, n) @ W (n, p) -> (m, p)."""
    return np.matmul(X, W)


def sigmoid(Z: Array) -> Array:
    """Element-wise sigmoid, values in [0, 1] (numpynn's overflow-free form)."""
    return F.sigmoid(_float(Z))


def relu(Z: Array) -> Array:
    """Element-wise max(0, Z)."""
    return F.relu(_float(Z))


def softmax(Z: Array) -> Array:
    """Row-wise softmax of Z (n_samples, n_classes): probabilities summing to 1 per row."""
    return F.softmax(_float(Z), axis=1)


def mse_loss(y_pred: Array, y: Array) -> float:
    """Mean squared error between predictions and true values."""
    return np.float64(F.mse(_float(y_pred), _float(y)))


def binary_cross_entropy(A: Array, y: Array) -> float:
    """Binary cross-entropy of probabilities A against labels y (the article's formula, epsilon 1e-15)."""
    epsilon = 1e-15
    return -np.mean(y * np.log(A + epsilon) + (1 - y) * np.log(1 - A + epsilon))


def cross_entropy(A: Array, y: Array) -> float:
    """Categorical cross-entropy of softmax probabilities A against one-hot y (the article's formula)."""
    epsilon = 1e-15  # the article's guard against log(0); numpynn's losses work on logits instead
    return -np.mean(np.sum(y * np.log(A + epsilon), axis=1))


def gradient_descent(X: Array, y: Array, W: Array,
                     b: Array, lr: float, num_epochs: int, batch_size: int | Callable[[Array, Array], float],
                     loss_fn: Callable[[Array, Array], float] | None = None,
                     activation_fn: Callable[[Array], Array] = lambda x: x
                     ) -> tuple[Array, Array, list[float]]:
    """Mini-batch gradient descent for a one-layer model; prints `Epoch i/N, Loss: ...` after each epoch.

    X (n, d), y (n, 1), W (d, 1), b (1, 1) or (1,). Returns (updated W, updated b, loss per epoch); W and b are
    new arrays, the caller's are not changed. Shuffles with the global np.random, as the series does.
    The per-epoch line: Part 2.4's library and the Part 3.4 article's listing print it, the code published with
    Parts 3.1-3.4 has it commented out; numpynn prints it, as Part 3.4's article does.

    Part 2.2's form, `gradient_descent(X, y, W, b, lr, num_iterations, loss_fn)` (seven positional arguments,
    the seventh a loss function), is full-batch linear regression: each iteration records loss_fn(X @ W + b, y)
    before it updates W and b, and prints nothing. It returns (W, b, loss per iteration) too.
    """
    if callable(batch_size) and loss_fn is None:  # Part 2.2: (..., lr, num_iterations, loss_fn)
        return _full_batch_descent(X, y, W, b, lr, num_epochs, batch_size)
    if loss_fn is None:
        raise TypeError("gradient_descent() needs a loss function: gradient_descent(X, y, W, b, lr, num_epochs, "
                        "batch_size, loss_fn) or Part 2.2's gradient_descent(X, y, W, b, lr, num_iterations, loss_fn)")
    n_samples = X.shape[0]
    loss_history = []
    for epoch in range(num_epochs):
        indices = np.random.permutation(n_samples)
        X_shuffled, y_shuffled = X[indices], y[indices]
        for start_idx in range(0, n_samples, batch_size):
            X_batch = X_shuffled[start_idx:start_idx + batch_size]
            y_batch = y_shuffled[start_idx:start_idx + batch_size]
            W, b = _descent_step(X_batch, y_batch, W, b, lr, activation_fn)
        loss = loss_fn(activation_fn(X @ W + b), y)
        loss_history.append(loss)
        print(f"Epoch {epoch+1}/{num_epochs}, Loss: {loss:.4f}")
    return W, b, loss_history


def _full_batch_descent(X, y, W, b, lr, num_iterations, loss_fn):
    """Part 2.2's gradient descent: every iteration on all of X, the loss recorded before the step, no print."""
    loss_history = []
    for _ in range(num_iterations):
        loss_history.append(loss_fn(X @ W + b, y))
        W, b = _descent_step(X, y, W, b, lr, lambda x: x)
    return W, b, loss_history


def _descent_step(X, y, W, b, lr, activation_fn):
    """The series' update: (prediction - target) as the gradient at the output, a scalar bias step; new arrays."""
    error = activation_fn(X @ W + b) - y
    grad_W = (X.T @ error) / X.shape[0]
    grad_b = np.mean(error)
    return W - lr * grad_W, b - lr * grad_b


def numerical_gradient(X: Array, y: Array, params: dict[str, Array],
                       loss_fn: Callable[[Array, Array], float],
                       forward_fn: Callable[[Array, dict[str, Array]], Array],
                       h: float = 1e-4) -> dict[str, Array]:
    """Central-difference gradients of loss_fn(forward_fn(X, params), y) for each entry of params.

    Each parameter is perturbed in place and restored, as in the article.
    """
    loss = lambda: loss_fn(forward_fn(X, params), y)  # noqa: E731
    return {name: _numerical_gradient(loss, value, h).astype(value.dtype, copy=False)
            for name, value in params.items()}


def forward_perceptron(X: Array, W: Array, b: Array) -> Array:
    """sigmoid(X @ W + b): a single-layer perceptron, output (n_samples, 1)."""
    return sigmoid(X @ W + b)


def forward_mlp(X: Array, W1: Array, b1: Array,
                W2: Array, b2: Array) -> tuple[Array, Array]:
    """Forward pass of the 2-layer MLP: returns (A1 = relu(X W1 + b1), A2 = softmax(A1 W2 + b2))."""
    A1 = relu(X @ W1 + b1)
    A2 = softmax(A1 @ W2 + b2)
    return A1, A2


def backward_mlp(X: Array, A1: Array, A2: Array,
                 y: Array, W1: Array, W2: Array,
                 Z1: Array) -> tuple[Array, Array, Array, Array]:
    """Backpropagation for the 2-layer MLP: (grad_W1, grad_b1, grad_W2, grad_b2) in the article's shapes."""
    n = X.shape[0]
    delta2 = (A2 - y) / n  # softmax + cross-entropy fused gradient, as numpynn's CrossEntropyLoss uses
    grad_W2, grad_b2, grad_A1 = F.linear_backward(delta2, A1, W2.T)
    delta1 = F.relu_backward(grad_A1, Z1)
    grad_W1, grad_b1, _ = F.linear_backward(delta1, X, W1.T, input_grad=False)
    return grad_W1.T, grad_b1[None, :], grad_W2.T, grad_b2[None, :]


# --- Part 4.1: Deeper MLPs and Vanishing Gradients

def forward_mlp_3layer(X: Array, W1: Array, b1: Array, W2: Array, b2: Array,
                       W3: Array, b3: Array) -> tuple[Array, Array, Array]:
    """Forward pass of the 3-layer MLP: (A1 = relu(X W1 + b1), A2 = relu(A1 W2 + b2), A3 = softmax(A2 W3 + b3))."""
    A1 = relu(X @ W1 + b1)
    A2 = relu(A1 @ W2 + b2)
    A3 = softmax(A2 @ W3 + b3)
    return A1, A2, A3


def backward_mlp_3layer(X: Array, A1: Array, A2: Array, A3: Array, y: Array,
                        W1: Array, W2: Array, W3: Array, Z1: Array, Z2: Array
                        ) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Backpropagation for the 3-layer MLP: (grad_W1, grad_b1, grad_W2, grad_b2, grad_W3, grad_b3).

    Z1, Z2 are the hidden pre-activations (the caller recomputes them, as the series does); W1 is unused.
    """
    n = X.shape[0]
    delta3 = (A3 - y) / n  # softmax + cross-entropy fused gradient, as numpynn's CrossEntropyLoss uses
    grad_W3, grad_b3, grad_A2 = F.linear_backward(delta3, A2, W3.T)
    delta2 = F.relu_backward(grad_A2, Z2)
    grad_W2, grad_b2, grad_A1 = F.linear_backward(delta2, A1, W2.T)
    delta1 = F.relu_backward(grad_A1, Z1)
    grad_W1, grad_b1, _ = F.linear_backward(delta1, X, W1.T, input_grad=False)
    return grad_W1.T, grad_b1[None, :], grad_W2.T, grad_b2[None, :], grad_W3.T, grad_b3[None, :]


# --- Part 4.2: Convolutional Layers

def conv2d(image: Array, filter_kernel: Array, stride: int = 1) -> Array:
    """True 2-D convolution (the kernel flipped, as SciPy's convolve2d), 'valid': image (H, W), kernel (kh, kw).

    Returns (H-kh+1, W-kw+1) before striding, then every stride-th row and column of it, float64.
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(filter_kernel, dtype=np.float64)[::-1, ::-1]  # numpynn's conv2d cross-correlates, as torch
    feature_map = F.conv2d(image[None, None], kernel[None, None])[0, 0]
    return feature_map[::stride, ::stride]  # the series strides the full 'valid' map, as it does with SciPy's


# --- Part 4.3: Pooling and CNN Architecture

def max_pool(X: Array, size: int = 2, stride: int = 2) -> Array:
    """Window maxima of X (H, W) or (H, W, C): ((H-size)//stride+1, (W-size)//stride+1[, C]), float64.

    A channel axis of size 1 is dropped, so (H, W, 1) gives a 2-D result, as in the series.
    """
    X = np.asarray(X, dtype=np.float64)
    chw = X[None] if X.ndim == 2 else X.transpose(2, 0, 1)
    pooled = F.max_pool2d(chw[None], size, stride)[0]  # (C, H', W')
    return pooled[0] if pooled.shape[0] == 1 else np.ascontiguousarray(pooled.transpose(1, 2, 0))


# --- Part 4.4: Regularization

def l2_regularization(weights: list[Array], lambda_: float) -> tuple[float, list[Array]]:
    """(penalty, grads): lambda_ * sum of W**2 over every array (a float), and 2 * lambda_ * W for each W."""
    penalty = lambda_ * sum(float(np.sum(np.square(W))) for W in weights)
    return penalty, [2 * lambda_ * np.asarray(W) for W in weights]


def dropout(A: Array, p: float, training: bool = True) -> Array:
    """A times a keep-mask drawn with np.random.binomial(1, p) (p is the KEEP probability); A itself when not training.

    The mask comes from NumPy's global random state, so np.random.seed reproduces the series' masks; unlike
    numpynn's Dropout (and torch's) the kept values are not rescaled by 1 / p.
    """
    if not training:
        return A
    return A * np.random.binomial(1, p, size=A.shape)


# --- Part 4.5: Advanced Optimization

def momentum_update(velocity: Array, gradient: Array, mu: float, lr: float) -> tuple[Array, Array]:
    """(new_velocity, update) with new_velocity = mu * velocity - lr * gradient and update the same array."""
    new_velocity = mu * velocity - lr * gradient  # the series' form; numpynn's SGD keeps torch's v = mu v + g
    return new_velocity, new_velocity


def accuracy(y_pred: Array, y_true: Array) -> float:
    """Fraction of rows whose argmax of y_pred matches y_true (one-hot rows are reduced by argmax too)."""
    return np.float64(_accuracy(y_true, np.asarray(y_pred).argmax(axis=1)))


def _float(a):
    a = np.asarray(a)
    return a if a.dtype.kind == "f" else a.astype(np.float64)

