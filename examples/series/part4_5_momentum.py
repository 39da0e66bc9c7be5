# Part 4.5, Advanced Optimization (the capstone): the 4.4 network, L2 and dropout, trained with momentum 0.9.
# Run it offline with:  python -m numpynn.article examples/series/part4_5_momentum.py
# (SERIES_SAMPLES and SERIES_EPOCHS, when set, shrink the run; the tests use them.)

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import fetch_openml
from sklearn.model_selection import train_test_split

from neural_network import (
    accuracy,
    backward_mlp_3layer,
    cross_entropy,
    dropout,
    forward_mlp_3layer,
    l2_regularization,
    momentum_update,
    normalize,
    relu,
    softmax,
)

# Load MNIST data (subset for faster training on CPU)
print("Loading MNIST data...")
X_full, y_full = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
X_full = X_full.astype(float)
y_full = y_full.astype(int)
n_samples_total = int(os.environ.get("SERIES_SAMPLES", 5000))
X = normalize(X_full[:n_samples_total])
y = y_full[:n_samples_total]
y_one_hot = np.zeros((y.shape[0], 10))
y_one_hot[np.arange(y.shape[0]), y] = 1
X_train, X_test, y_train, y_test = train_test_split(X, y_one_hot, test_size=0.2, random_state=42)

# Initialize parameters (784 -> 256 -> 128 -> 10) and zero velocities
W1 = np.random.randn(784, 256) * 0.01
b1 = np.zeros((1, 256))
W2 = np.random.randn(256, 128) * 0.01
b2 = np.zeros((1, 128))
W3 = np.random.randn(128, 10) * 0.01
b3 = np.zeros((1, 10))
params = [W1, b1, W2, b2, W3, b3]
velocities = [np.zeros_like(p) for p in params]

lr = 0.1
mu = 0.9  # momentum
lambda_ = 0.01  # L2 strength
keep_prob = 0.8  # dropout keep probability
num_epochs = int(os.environ.get("SERIES_EPOCHS", 20))
batch_size = 64
n_samples = X_train.shape[0]
loss_history = []
accuracy_history = []

print("Starting training...")
for epoch in range(num_epochs):
    indices = np.random.permutation(n_samples)
    X_shuffled = X_train[indices]
    y_shuffled = y_train[indices]
    for start_idx in range(0, n_samples, batch_size):
        X_batch = X_shuffled[start_idx:start_idx + batch_size]
        y_batch = y_shuffled[start_idx:start_idx + batch_size]

        # Forward pass with dropout on the hidden layers
        Z1 = X_batch @ W1 + b1
        A1 = dropout(relu(Z1), keep_prob, training=True)
        Z2 = A1 @ W2 + b2
        A2 = dropout(relu(Z2), keep_prob, training=True)
        A3 = softmax(A2 @ W3 + b3)

        # Backward pass (the series' way, as in Part 4.4), plus the L2 gradients of the weights
        grads = list(backward_mlp_3layer(X_batch, A1, A2, A3, y_batch, W1, W2, W3, Z1, Z2))
        _, l2_grads = l2_regularization([W1, W2, W3], lambda_)
        grads[0] += l2_grads[0]
        grads[2] += l2_grads[1]
        grads[4] += l2_grads[2]

        # Momentum updates: v = mu * v - lr * grad, then W += v
        for i, (param, grad) in enumerate(zip(params, grads)):
            velocities[i], update = momentum_update(velocities[i], grad, mu, lr)
            param += update

    # Evaluate without dropout
    _, _, A3_full = forward_mlp_3layer(X_train, W1, b1, W2, b2, W3, b3)
    loss = cross_entropy(A3_full, y_train) + l2_regularization([W1, W2, W3], lambda_)[0]
    _, _, A3_test = forward_mlp_3layer(X_test, W1, b1, W2, b2, W3, b3)
    test_accuracy = accuracy(A3_test, y_test)
    loss_history.append(loss)
    accuracy_history.append(test_accuracy)
    print(f"Epoch {epoch+1}/{num_epochs}, Loss: {loss:.4f}, Test Accuracy: {test_accuracy:.4f}")

# Plot loss and accuracy
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 8))
ax1.plot(range(1, num_epochs + 1), loss_history, label='Training Loss (with L2 penalty)')
ax1.set_xlabel('Epoch')
ax1.set_ylabel('Loss')
ax1.set_title('Training Loss with Momentum, L2 and Dropout')
ax1.legend()
ax1.grid(True)
ax2.plot(range(1, num_epochs + 1), accuracy_history, label='Test Accuracy', color='green')
ax2.set_xlabel('Epoch')
ax2.set_ylabel('Accuracy')
ax2.set_title('Test Accuracy')
ax2.legend()
ax2.grid(True)
plt.tight_layout()
plt.show()

print("Final Test Accuracy:", accuracy_history[-1])
