# Part 2.2's four exercises, with Part 2.2's full-batch gradient_descent(X, y, W, b, lr, num_iterations, loss_fn):
# learning rates, one feature, a learning rate too large, and how fast the loss falls.
# Run it with:  python -m numpynn.article examples/series/part2_2_exercises.py

import numpy as np

from neural_network import gradient_descent, mse_loss

np.random.seed(42)
X = np.random.randn(50, 1)
y = 3 * X + 2

# Exercise 1: three learning rates, 50 iterations each
print("Exercise 1:")
for lr in [0.01, 0.1, 0.5]:
    W, b, losses = gradient_descent(X, y, np.zeros((1, 1)), np.zeros((1, 1)), lr, 50, mse_loss)
    print(f"lr {lr}: final loss {losses[-1]:.6f}")

# Exercise 2: without noise the line is found: W -> 3, b -> 2
W, b, losses = gradient_descent(X, y, np.zeros((1, 1)), np.zeros((1, 1)), 0.1, 200, mse_loss)
print(f"Exercise 2: W = {W[0, 0]:.4f}, b = {b[0, 0]:.4f}")

# Exercise 3: a learning rate too large makes the loss grow
W, b, losses = gradient_descent(X, y, np.zeros((1, 1)), np.zeros((1, 1)), 2.5, 10, mse_loss)
print(f"Exercise 3: lr 2.5, loss after 1 iteration {losses[1]:.4f}, after 10 {losses[-1]:.4f}")
print("Diverges:", losses[-1] > losses[0])

# Exercise 4: the loss history has one entry per iteration, the loss before that iteration's step
W, b, losses = gradient_descent(X, y, np.zeros((1, 1)), np.zeros((1, 1)), 0.1, 30, mse_loss)
print(f"Exercise 4: {len(losses)} losses, first {losses[0]:.4f}, 10th {losses[9]:.4f}, last {losses[-1]:.4f}")
