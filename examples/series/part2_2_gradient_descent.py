# Part 2.2: gradient descent: fit a linear regression, full batch, with Part 2.2's
# gradient_descent(X, y, W, b, lr, num_iterations, loss_fn).
# Run it with:  python -m numpynn.article examples/series/part2_2_gradient_descent.py

import matplotlib.pyplot as plt
import numpy as np

from neural_network import gradient_descent, mse_loss

np.random.seed(42)
X = np.random.randn(100, 2)
true_W = np.array([[2.0], [-3.0]])
true_b = 1.5
y = X @ true_W + true_b + np.random.randn(100, 1) * 0.1

W = np.zeros((2, 1))
b = np.zeros((1, 1))
lr = 0.1
num_iterations = 100
W, b, loss_history = gradient_descent(X, y, W, b, lr, num_iterations, mse_loss)

print(f"Initial Loss: {loss_history[0]:.4f}")
print(f"Final Loss: {loss_history[-1]:.4f}")
print("Learned W:", np.round(W.ravel(), 4), "(true: [ 2. -3.])")
print("Learned b:", np.round(b.ravel(), 4), "(true: 1.5)")

plt.figure(figsize=(8, 4))
plt.plot(loss_history)
plt.title('MSE Loss over iterations')
plt.xlabel('Iteration')
plt.ylabel('Loss')
plt.grid(True)
plt.show()
