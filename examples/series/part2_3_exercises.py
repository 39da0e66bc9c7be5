# Part 2.3's four exercises: batch sizes, a binary classifier with a sigmoid, normalize's constant column, and
# one epoch's count of updates.
# Run it with:  python -m numpynn.article examples/series/part2_3_exercises.py

import numpy as np

from neural_network import binary_cross_entropy, gradient_descent, mse_loss, normalize, sigmoid

np.random.seed(42)
X = normalize(np.random.randn(120, 2))
y = X @ np.array([[2.0], [-1.0]]) + 0.5

# Exercise 1: batch size 1, 16 and the full batch, 5 epochs each
for batch_size in [1, 16, 120]:
    print(f"Exercise 1: batch size {batch_size}")
    W, b, losses = gradient_descent(X, y, np.zeros((2, 1)), np.zeros((1, 1)), 0.05, 5, batch_size, mse_loss)

# Exercise 2: a binary classifier: sigmoid activation and binary cross-entropy
labels = (X[:, :1] + X[:, 1:] > 0).astype(float)
print("Exercise 2: sigmoid + binary cross-entropy")
W, b, losses = gradient_descent(X, labels, np.zeros((2, 1)), np.zeros((1, 1)), 0.5, 5, 16,
                                binary_cross_entropy, sigmoid)
accuracy = np.mean((sigmoid(X @ W + b) > 0.5) == labels)
print(f"Training accuracy: {accuracy:.4f}")

# Exercise 3: normalize a matrix with a constant column
print("Exercise 3:\n", np.round(normalize(np.array([[5.0, 1.0], [5.0, 2.0], [5.0, 3.0]])), 4))

# Exercise 4: batches per epoch for 120 samples
for batch_size in [16, 32, 50]:
    print(f"Exercise 4: batch size {batch_size} -> {int(np.ceil(120 / batch_size))} updates per epoch")
