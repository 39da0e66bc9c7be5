# Part 2.3: mini-batch gradient descent on normalized features: shuffle each epoch, step per batch.
# Run it with:  python -m numpynn.article examples/series/part2_3_mini_batch.py

import numpy as np

from neural_network import gradient_descent, mse_loss, normalize

np.random.seed(42)
X = np.random.randn(200, 3) * np.array([1.0, 5.0, 20.0])
y = X @ np.array([[1.0], [-0.4], [0.05]]) + 0.3
X = normalize(X)

W = np.zeros((3, 1))
b = np.zeros((1, 1))
W, b, loss_history = gradient_descent(X, y, W, b, lr=0.1, num_epochs=10, batch_size=32, loss_fn=mse_loss)
print(f"Final Loss: {loss_history[-1]:.4f}")
print("Learned W:", np.round(W.ravel(), 4))
