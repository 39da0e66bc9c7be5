# Part 3.3's four exercises: a 2-3-2 net by hand, dead hidden units, a batch of one, a deeper stack.
# Run it with:  python -m numpynn.article examples/series/part3_3_exercises.py

import numpy as np

from neural_network import forward_mlp, relu, softmax

# Exercise 1: a 2-3-2 network with fixed weights
X = np.array([[1.0, 2.0]])
W1 = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
b1 = np.array([[0.0, 0.1, 0.0]])
W2 = np.array([[0.2, -0.1], [0.3, 0.4], [-0.5, 0.6]])
b2 = np.array([[0.0, 0.0]])
A1, A2 = forward_mlp(X, W1, b1, W2, b2)
print("Exercise 1: A1 =", np.round(A1, 4), "A2 =", np.round(A2, 4))

# Exercise 2: how many hidden units are dead (zero for every sample) with a negative bias
np.random.seed(42)
X2 = np.random.randn(20, 5)
A1, _ = forward_mlp(X2, np.random.randn(5, 8), np.full((1, 8), -3.0), np.random.randn(8, 3), np.zeros((1, 3)))
print("Exercise 2: dead hidden units:", int(np.sum(np.all(A1 == 0, axis=0))), "of 8")

# Exercise 3: a batch of one sample keeps 2-D shapes
A1, A2 = forward_mlp(X2[:1], np.random.randn(5, 4), np.zeros((1, 4)), np.random.randn(4, 3), np.zeros((1, 3)))
print("Exercise 3: shapes", A1.shape, A2.shape)

# Exercise 4: the same forward pass written out with relu and softmax
W1, W2 = np.random.randn(5, 4), np.random.randn(4, 3)
b1, b2 = np.random.randn(1, 4), np.random.randn(1, 3)
_, A2 = forward_mlp(X2, W1, b1, W2, b2)
print("Exercise 4: equals softmax(relu(X W1 + b1) W2 + b2):", np.allclose(A2, softmax(relu(X2 @ W1 + b1) @ W2 + b2)))
