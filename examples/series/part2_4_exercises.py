# Part 2.4's four exercises: a sigmoid classifier's gradient, the step size h, a planted bug, and params kept.
# Run it with:  python -m numpynn.article examples/series/part2_4_exercises.py

import numpy as np

from neural_network import binary_cross_entropy, numerical_gradient, sigmoid

np.random.seed(42)
X = np.random.randn(8, 2)
y = (X[:, :1] > 0).astype(float)
params = {'W': np.random.randn(2, 1), 'b': np.array([[0.1]])}


def forward_fn(X, params):
    return sigmoid(X @ params['W'] + params['b'])


def analytical(X, y, params):
    error = forward_fn(X, params) - y
    return X.T @ error / X.shape[0], np.array([[np.mean(error)]])


# Exercise 1: sigmoid + binary cross-entropy: the analytical gradient is X^T (A - y) / n
num = numerical_gradient(X, y, params, binary_cross_entropy, forward_fn)
grad_W, grad_b = analytical(X, y, params)
print("Exercise 1: numerical grad W:", np.round(num['W'].ravel(), 6))
print("Analytical grad W:", np.round(grad_W.ravel(), 6))
print("Max difference below 1e-8:",
      np.max(np.abs(num['W'] - grad_W)) < 1e-8 and np.max(np.abs(num['b'] - grad_b)) < 1e-8)

# Exercise 2: the step size h: too large is inaccurate
for h in [1e-1, 1e-4]:
    num = numerical_gradient(X, y, params, binary_cross_entropy, forward_fn, h=h)
    difference = np.max(np.abs(num['W'] - grad_W))
    print(f"Exercise 2: h = {h:g}: max difference {difference:.1e}" if h > 1e-2 else
          f"Exercise 2: h = {h:g}: max difference below 1e-8: {difference < 1e-8}")

# Exercise 3: a planted bug (the / n forgotten) is caught
num = numerical_gradient(X, y, params, binary_cross_entropy, forward_fn)
buggy_W = grad_W * X.shape[0]
print("Exercise 3: buggy gradient matches:", np.allclose(num['W'], buggy_W, atol=1e-6))

# Exercise 4: numerical_gradient perturbs the parameters in place and puts them back
before = {k: v.copy() for k, v in params.items()}
numerical_gradient(X, y, params, binary_cross_entropy, forward_fn)
print("Exercise 4: parameters unchanged:", all(np.array_equal(before[k], params[k]) for k in params))
