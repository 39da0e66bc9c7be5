# Part 2.1: loss functions: mean squared error for regression, binary cross-entropy for classification.
# Run it with:  python -m numpynn.article examples/series/part2_1_losses.py

import numpy as np

from neural_network import binary_cross_entropy, mse_loss

# Regression: predictions close to the targets
y_pred = np.array([[1.1], [1.9], [3.2]])
y = np.array([[1.0], [2.0], [3.0]])
print(f"MSE Loss: {mse_loss(y_pred, y):.4f}")

# Classification: probabilities after a sigmoid against 0/1 labels
A = np.array([[0.9], [0.2], [0.8]])
labels = np.array([[1.0], [0.0], [1.0]])
print(f"Binary Cross-Entropy Loss: {binary_cross_entropy(A, labels):.4f}")

# Confident and wrong costs far more than confident and right
print(f"BCE, confident and right: {binary_cross_entropy(np.array([[0.99]]), np.array([[1.0]])):.4f}")
print(f"BCE, confident and wrong: {binary_cross_entropy(np.array([[0.01]]), np.array([[1.0]])):.4f}")
