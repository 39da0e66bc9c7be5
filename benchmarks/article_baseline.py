"""The seed article's MLP code as written (Part 3.4), the baseline numpynn is timed against.

forward_mlp, backward_mlp, relu, softmax and cross_entropy are copied from the article unchanged:
float64, weights (in, out) used as `X @ W`, one-hot float targets, and `Z1` recomputed after the forward
pass. `train_epoch` is the body of the article's `for epoch in range(num_epochs):` loop, shuffle and
mini-batches, without its end-of-epoch full-data evaluation (no contender is timed on evaluation).
The one change: randomness comes from a Generator passed in, not the global np.random (same cost).
"""


import numpy as np
from numpy.typing import NDArray


def relu(Z: NDArray[np.floating]) -> NDArray[np.floating]:
    return np.maximum(0, Z)


def softmax(Z: NDArray[np.floating]) -> NDArray[np.floating]:
    Z_max = np.max(Z, axis=1, keepdims=True)
    exp_Z = np.exp(Z - Z_max)
    sum_exp_Z = np.sum(exp_Z, axis=1, keepdims=True)
    return exp_Z / sum_exp_Z


def cross_entropy(A: NDArray[np.floating], y: NDArray[np.floating]) -> float:
    epsilon = 1e-15  # Small value to prevent log(0)
    return -np.mean(np.sum(y * np.log(A + epsilon), axis=1))


def forward_mlp(X, W1, b1, W2, b2) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    Z1 = X @ W1 + b1  # First layer linear combination
    A1 = relu(Z1)      # ReLU activation for hidden layer
    Z2 = A1 @ W2 + b2  # Second layer linear combination
    A2 = softmax(Z2)   # Softmax activation for output layer
    return A1, A2


def backward_mlp(X, A1, A2, y, W1, W2, Z1):
    n = X.shape[0]

    # Output layer error (delta2)
    delta2 = A2 - y  # Shape (n_samples, n_classes)

    # Gradients for output layer (W2, b2)
    grad_W2 = (A1.T @ delta2) / n  # Shape (n_hidden, n_classes)
    grad_b2 = np.mean(delta2, axis=0, keepdims=True)  # Shape (1, n_classes)

    # Hidden layer error (delta1)
    delta1 = (delta2 @ W2.T) * (Z1 > 0)  # ReLU derivative: 1 if Z1 > 0, 0 otherwise

    # Gradients for hidden layer (W1, b1)
    grad_W1 = (X.T @ delta1) / n  # Shape (n_features, n_hidden)
    grad_b1 = np.mean(delta1, axis=0, keepdims=True)  # Shape (1, n_hidden)

    return grad_W1, grad_b1, grad_W2, grad_b2


def init_params(rng: np.random.Generator, n_features: int = 784, n_hidden: int = 256, n_classes: int = 10):
    """The article's initialisation: N(0, 0.01^2) weights (in, out), zero biases (1, out), float64."""
    W1 = rng.standard_normal((n_features, n_hidden)) * 0.01
    b1 = np.zeros((1, n_hidden))
    W2 = rng.standard_normal((n_hidden, n_classes)) * 0.01
    b2 = np.zeros((1, n_classes))
    return [W1, b1, W2, b2]


def train_epoch(X_train, y_train, params, rng: np.random.Generator, lr: float = 0.1, batch_size: int = 64):
    """One pass of the article's training loop over (X_train, y_train one-hot); updates params in place."""
    W1, b1, W2, b2 = params
    n_samples = X_train.shape[0]
    # Shuffle data
    indices = rng.permutation(n_samples)
    X_shuffled = X_train[indices]
    y_shuffled = y_train[indices]

    # Mini-batch processing
    for start_idx in range(0, n_samples, batch_size):
        end_idx = min(start_idx + batch_size, n_samples)
        X_batch = X_shuffled[start_idx:end_idx]
        y_batch = y_shuffled[start_idx:end_idx]
        batch_size_actual = X_batch.shape[0]  # noqa: F841 (kept as written)

        # Forward pass
        A1, A2 = forward_mlp(X_batch, W1, b1, W2, b2)

        # Compute gradients via backpropagation
        Z1 = X_batch @ W1 + b1  # Pre-activation for ReLU
        grad_W1, grad_b1, grad_W2, grad_b2 = backward_mlp(X_batch, A1, A2, y_batch, W1, W2, Z1)

        # Update parameters
        W1 -= lr * grad_W1
        b1 -= lr * grad_b1
        W2 -= lr * grad_W2
        b2 -= lr * grad_b2


def predict(X, params) -> NDArray[np.integer]:
    """The article's test-set prediction: argmax of forward_mlp's softmax output."""
    _, A2 = forward_mlp(X, *params)
    return np.argmax(A2, axis=1)
