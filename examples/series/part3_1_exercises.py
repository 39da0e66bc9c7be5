# Part 3.1's four exercises: one forward pass by hand, the AND gate, the output shape, a batch of one.
# Run it with:  python -m numpynn.article examples/series/part3_1_exercises.py

import numpy as np

from neural_network import binary_cross_entropy, forward_perceptron, gradient_descent, sigmoid

# Exercise 1: one forward pass you can check by hand: sigmoid(1*0.5 + 2*(-0.25) + 0) = sigmoid(0) = 0.5
X = np.array([[1.0, 2.0]])
W = np.array([[0.5], [-0.25]])
b = np.array([[0.0]])
print("Exercise 1:", forward_perceptron(X, W, b))

# Exercise 2: learn the AND gate
np.random.seed(42)
X_and = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y_and = np.array([[0.0], [0.0], [0.0], [1.0]])
W, b, losses = gradient_descent(X_and, y_and, np.zeros((2, 1)), np.zeros((1, 1)), 1.0, 25, 1,
                                binary_cross_entropy, sigmoid)
print("Exercise 2: AND predictions:", (forward_perceptron(X_and, W, b) > 0.5).astype(int).ravel())

# Exercise 3: the output has one column per sample
X3 = np.random.randn(5, 3)
print("Exercise 3: output shape", forward_perceptron(X3, np.random.randn(3, 1), np.zeros((1, 1))).shape)

# Exercise 4: the perceptron is sigmoid(X @ W + b)
W4, b4 = np.random.randn(3, 1), np.array([[0.2]])
print("Exercise 4: equals sigmoid(X @ W + b):", np.allclose(forward_perceptron(X3, W4, b4), sigmoid(X3 @ W4 + b4)))
