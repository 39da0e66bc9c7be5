# Part 2.1's four exercises: a perfect prediction, a worse one, log(0) guarded, the loss curve.
# Run it with:  python -m numpynn.article examples/series/part2_1_exercises.py

import matplotlib.pyplot as plt
import numpy as np

from neural_network import binary_cross_entropy, mse_loss

# Exercise 1: a perfect regression has zero loss
y = np.array([[2.0], [4.0], [6.0], [8.0]])
print(f"Exercise 1: MSE of a perfect prediction: {mse_loss(y.copy(), y):.4f}")

# Exercise 2: every prediction off by 0.5, then by 1: the loss grows with the square
print(f"Exercise 2: off by 0.5: {mse_loss(y + 0.5, y):.4f}, off by 1: {mse_loss(y + 1.0, y):.4f}")

# Exercise 3: a probability of exactly 0 for a positive label: epsilon keeps the loss finite
loss = binary_cross_entropy(np.array([[0.0], [1.0]]), np.array([[1.0], [1.0]]))
print(f"Exercise 3: BCE with a zero probability: {loss:.4f}, finite: {np.isfinite(loss)}")

# Exercise 4: the BCE of one positive example as the predicted probability goes from 0.01 to 0.99
p = np.linspace(0.01, 0.99, 99).reshape(-1, 1)
losses = [binary_cross_entropy(p[i:i + 1], np.array([[1.0]])) for i in range(len(p))]
print(f"Exercise 4: loss at p=0.01: {losses[0]:.4f}, at p=0.99: {losses[-1]:.4f}")
plt.figure(figsize=(8, 4))
plt.plot(p, losses)
plt.title('Binary cross-entropy for a positive example')
plt.xlabel('Predicted probability')
plt.ylabel('Loss')
plt.grid(True)
plt.show()
