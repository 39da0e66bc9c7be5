# Part 3.1: a single-layer perceptron trained with gradient descent on two separable clouds of points.
# Run it with:  python -m numpynn.article examples/series/part3_1_perceptron.py

import matplotlib.pyplot as plt
import numpy as np

from neural_network import binary_cross_entropy, forward_perceptron, gradient_descent, sigmoid

np.random.seed(42)
n = 100
X = np.vstack([np.random.randn(n // 2, 2) + np.array([2.0, 2.0]),
               np.random.randn(n // 2, 2) + np.array([-2.0, -2.0])])
y = np.vstack([np.ones((n // 2, 1)), np.zeros((n // 2, 1))])

W = np.zeros((2, 1))
b = np.zeros((1, 1))
W, b, loss_history = gradient_descent(X, y, W, b, lr=0.1, num_epochs=10, batch_size=10,
                                      loss_fn=binary_cross_entropy, activation_fn=sigmoid)
A = forward_perceptron(X, W, b)
accuracy = np.mean((A > 0.5).astype(int) == y)
print(f"Final Loss: {loss_history[-1]:.4f}")
print(f"Accuracy: {accuracy:.4f}")

plt.figure(figsize=(6, 6))
plt.scatter(X[:, 0], X[:, 1], c=y.ravel(), cmap='bwr', alpha=0.6)
xs = np.linspace(-5, 5, 10)
plt.plot(xs, -(W[0, 0] * xs + b[0, 0]) / W[1, 0], 'k-', label='decision boundary')
plt.title('Perceptron decision boundary')
plt.legend()
plt.show()
