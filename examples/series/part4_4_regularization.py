# Part 4.4, Regularization: the 4.1 network with L2 (lambda 0.01) and dropout (keep 0.8) on its hidden layers,
# trained beside the same network without them, both from the same initial weights.
# Run it offline with:  python -m numpynn.article examples/series/part4_4_regularization.py
# (SERIES_SAMPLES and SERIES_EPOCHS, when set, shrink the run; the tests use them.)

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import fetch_openml
from sklearn.model_selection import train_test_split

from neural_network import (
    backward_mlp_3layer,
    cross_entropy,
    dropout,
    forward_mlp_3layer,
    l2_regularization,
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

# One set of initial weights (784 -> 256 -> 128 -> 10) for both runs
initial_params = [np.random.randn(784, 256) * 0.01, np.zeros((1, 256)),
                  np.random.randn(256, 128) * 0.01, np.zeros((1, 128)),
                  np.random.randn(128, 10) * 0.01, np.zeros((1, 10))]

lr = 0.1
num_epochs = int(os.environ.get("SERIES_EPOCHS", 20))
batch_size = 64
lambda_ = 0.01  # L2 strength
keep_prob = 0.8  # dropout keeps each hidden unit with this probability


def train(regularize):
    """Mini-batch SGD from the shared initial weights; returns the loss and test accuracy per epoch."""
    W1, b1, W2, b2, W3, b3 = [p.copy() for p in initial_params]
    n_samples = X_train.shape[0]
    loss_history, accuracy_history = [], []
    for epoch in range(num_epochs):
        indices = np.random.permutation(n_samples)
        X_shuffled = X_train[indices]
        y_shuffled = y_train[indices]
        for start_idx in range(0, n_samples, batch_size):
            X_batch = X_shuffled[start_idx:start_idx + batch_size]
            y_batch = y_shuffled[start_idx:start_idx + batch_size]
            if regularize:
                # Forward pass with dropout on both hidden layers
                Z1 = X_batch @ W1 + b1
                A1 = dropout(relu(Z1), keep_prob, training=True)
                Z2 = A1 @ W2 + b2
                A2 = dropout(relu(Z2), keep_prob, training=True)
                A3 = softmax(A2 @ W3 + b3)
                # The series' backward: ReLU derivatives from Z1, Z2, so a dropped unit adds nothing to the
                # next layer's gradient but still passes its error back to the layer below it.
                grad_W1, grad_b1, grad_W2, grad_b2, grad_W3, grad_b3 = backward_mlp_3layer(
                    X_batch, A1, A2, A3, y_batch, W1, W2, W3, Z1, Z2)
                _, (l2_W1, l2_W2, l2_W3) = l2_regularization([W1, W2, W3], lambda_)
                grad_W1 += l2_W1
                grad_W2 += l2_W2
                grad_W3 += l2_W3
            else:
                A1, A2, A3 = forward_mlp_3layer(X_batch, W1, b1, W2, b2, W3, b3)
                Z1 = X_batch @ W1 + b1
                Z2 = A1 @ W2 + b2
                grad_W1, grad_b1, grad_W2, grad_b2, grad_W3, grad_b3 = backward_mlp_3layer(
                    X_batch, A1, A2, A3, y_batch, W1, W2, W3, Z1, Z2)
            W1 -= lr * grad_W1
            b1 -= lr * grad_b1
            W2 -= lr * grad_W2
            b2 -= lr * grad_b2
            W3 -= lr * grad_W3
            b3 -= lr * grad_b3
        # Evaluate without dropout (training=False is the identity); the loss includes the L2 penalty
        _, _, A3_full = forward_mlp_3layer(X_train, W1, b1, W2, b2, W3, b3)
        loss = cross_entropy(A3_full, y_train)
        if regularize:
            loss += l2_regularization([W1, W2, W3], lambda_)[0]
        _, _, A3_test = forward_mlp_3layer(X_test, W1, b1, W2, b2, W3, b3)
        accuracy = np.mean(np.argmax(A3_test, axis=1) == np.argmax(y_test, axis=1))
        loss_history.append(loss)
        accuracy_history.append(accuracy)
        label = "with L2 + dropout" if regularize else "without"
        print(f"[{label}] Epoch {epoch+1}/{num_epochs}, Loss: {loss:.4f}, Test Accuracy: {accuracy:.4f}")
    return loss_history, accuracy_history


print("Training with L2 regularization and dropout...")
loss_reg, acc_reg = train(regularize=True)
print("Training without regularization...")
loss_plain, acc_plain = train(regularize=False)

# Plot both runs
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 8))
epochs = range(1, num_epochs + 1)
ax1.plot(epochs, loss_reg, label='With L2 + Dropout')
ax1.plot(epochs, loss_plain, label='Without Regularization')
ax1.set_xlabel('Epoch')
ax1.set_ylabel('Training Loss')
ax1.set_title('Training Loss')
ax1.legend()
ax1.grid(True)
ax2.plot(epochs, acc_reg, label='With L2 + Dropout')
ax2.plot(epochs, acc_plain, label='Without Regularization')
ax2.set_xlabel('Epoch')
ax2.set_ylabel('Test Accuracy')
ax2.set_title('Test Accuracy')
ax2.legend()
ax2.grid(True)
plt.tight_layout()
plt.show()

print("Final Test Accuracy with L2 + dropout:", acc_reg[-1])
print("Final Test Accuracy without regularization:", acc_plain[-1])
