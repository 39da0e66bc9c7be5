# Exercise 2 of the article, verbatim; only the imports above the marker are added (the article leaves them
# to the reader). Run it offline with:  python -m numpynn.article examples/article/exercise2.py
import numpy as np

from neural_network import backward_mlp, cross_entropy, forward_mlp

# --- the article's code ---
# Your code here
X = np.array([[1.0, 2.0], [3.0, 4.0]])
y = np.array([[1, 0], [0, 1]])
W1 = np.random.randn(2, 3) * 0.1
b1 = np.zeros((1, 3))
W2 = np.random.randn(3, 2) * 0.1
b2 = np.zeros((1, 2))
lr = 0.1
# Initial forward pass and loss
A1, A2 = forward_mlp(X, W1, b1, W2, b2)
initial_loss = cross_entropy(A2, y)
# Backpropagation and update
Z1 = X @ W1 + b1
grad_W1, grad_b1, grad_W2, grad_b2 = backward_mlp(X, A1, A2, y, W1, W2, Z1)
W1 -= lr * grad_W1
b1 -= lr * grad_b1
W2 -= lr * grad_W2
b2 -= lr * grad_b2
# Final forward pass and loss
A1, A2 = forward_mlp(X, W1, b1, W2, b2)
final_loss = cross_entropy(A2, y)
print("Initial Loss:", initial_loss)
print("Final Loss after one update:", final_loss)
