# Part 2.4: debugging with gradient checking: numerical gradients against the analytical ones.
# Run it with:  python -m numpynn.article examples/series/part2_4_gradient_check.py

import numpy as np

from neural_network import mse_loss, numerical_gradient

np.random.seed(42)
X = np.random.randn(10, 3)
y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
params = {'W': np.random.randn(3, 1), 'b': np.zeros((1, 1))}


def forward_fn(X, params):
    return X @ params['W'] + params['b']


num_grads = numerical_gradient(X, y, params, mse_loss, forward_fn)
# Analytical gradients of the MSE: d/dW = 2 X^T (y_pred - y) / n, d/db = 2 mean(y_pred - y)
error = forward_fn(X, params) - y
grad_W = 2 * X.T @ error / X.shape[0]
grad_b = 2 * np.mean(error, keepdims=True).reshape(1, 1)
print("Numerical grad W:", np.round(num_grads['W'].ravel(), 6))
print("Analytical grad W:", np.round(grad_W.ravel(), 6))
print("Max difference W below 1e-8:", np.max(np.abs(num_grads['W'] - grad_W)) < 1e-8)
print("Max difference b below 1e-8:", np.max(np.abs(num_grads['b'] - grad_b)) < 1e-8)
print("Gradients match:",
      np.allclose(num_grads['W'], grad_W, atol=1e-6) and np.allclose(num_grads['b'], grad_b, atol=1e-6))
