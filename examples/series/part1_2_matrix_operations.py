# Part 1.2: matrix operations for neural networks: normalize the features, then one layer's X @ W.
# Run it with:  python -m numpynn.article examples/series/part1_2_matrix_operations.py

import numpy as np

from neural_network import matrix_multiply, normalize

np.random.seed(42)
# Three features on very different scales
X = np.random.randn(6, 3) * np.array([1.0, 10.0, 100.0]) + np.array([0.0, 5.0, 50.0])
print("Feature means before:", np.round(X.mean(axis=0), 4))
print("Feature stds before:", np.round(X.std(axis=0), 4))
X_norm = normalize(X)
print("Feature means after:", np.round(X_norm.mean(axis=0), 4) + 0.0)
print("Feature stds after:", np.round(X_norm.std(axis=0), 4))

# One layer: 6 samples of 3 features times a (3, 2) weight matrix
W = np.random.randn(3, 2)
Z = matrix_multiply(X_norm, W)
print("Output shape:", Z.shape)
print("Output:\n", np.round(Z, 4))
