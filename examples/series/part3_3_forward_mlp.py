# Part 3.3: the forward pass of a 2-layer MLP, 784-256-10, on a batch of four MNIST-sized inputs.
# Run it with:  python -m numpynn.article examples/series/part3_3_forward_mlp.py

import numpy as np

from neural_network import forward_mlp

np.random.seed(42)
X = np.random.rand(4, 784)
W1 = np.random.randn(784, 256) * 0.01
b1 = np.zeros((1, 256))
W2 = np.random.randn(256, 10) * 0.01
b2 = np.zeros((1, 10))

A1, A2 = forward_mlp(X, W1, b1, W2, b2)
print("Hidden layer shape:", A1.shape)
print("Output shape:", A2.shape)
print("Output rows sum to 1:", np.allclose(A2.sum(axis=1), 1))
print("Probabilities of the first sample:", np.round(A2[0], 4))
print("Predicted classes:", np.argmax(A2, axis=1))
