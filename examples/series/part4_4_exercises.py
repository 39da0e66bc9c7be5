# Part 4.4's four exercises: the L2 penalty by hand, dropout in and out of training, and two small comparisons.
# Run it offline with:  python -m numpynn.article examples/series/part4_4_exercises.py
# (SERIES_SAMPLES and SERIES_EPOCHS, when set, change exercise 3's and 4's 2,000 images and 10 epochs.)

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

# Exercise 1: the L2 penalty and its gradients for two small weight matrices
print("Exercise 1: L2 regularization")
W1 = np.array([[1.0, 2.0], [3.0, 4.0]])
W2 = np.array([[0.5, 1.5], [2.5, 3.5]])
penalty, l2_grads = l2_regularization([W1, W2], 0.01)
print("L2 penalty:", round(penalty, 10))  # 0.01 * (30 + 21)
print("Gradient for W1:\n", l2_grads[0])
print("Gradient for W2:\n", l2_grads[1])

# Exercise 2: dropout twice in training mode (two different masks), then once in evaluation mode
print("\nExercise 2: dropout")
A = np.arange(1, 13, dtype=float).reshape(3, 4)
print("Training, first pass:\n", dropout(A, p=0.5, training=True))
print("Training, second pass:\n", dropout(A, p=0.5, training=True))
print("Evaluation (unchanged):\n", dropout(A, p=0.5, training=False))

# Exercises 3 and 4 train the 784 -> 256 -> 128 -> 10 network on a small MNIST subset
X_full, y_full = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
n = int(os.environ.get("SERIES_SAMPLES", 2000))
X = normalize(X_full[:n].astype(float))
y_one_hot = np.zeros((n, 10))
y_one_hot[np.arange(n), y_full[:n].astype(int)] = 1
X_train, X_test, y_train, y_test = train_test_split(X, y_one_hot, test_size=0.2, random_state=42)
num_epochs = int(os.environ.get("SERIES_EPOCHS", 10))


def train(params, keep_prob=1.0, lambda_=0.0, lr=0.1, batch_size=64):
    """SGD with optional dropout (keep_prob < 1) and L2 (lambda_ > 0); returns loss and test accuracy per epoch."""
    W1, b1, W2, b2, W3, b3 = params
    losses, accuracies = [], []
    for _ in range(num_epochs):
        indices = np.random.permutation(X_train.shape[0])
        for start_idx in range(0, X_train.shape[0], batch_size):
            batch = indices[start_idx:start_idx + batch_size]
            X_batch, y_batch = X_train[batch], y_train[batch]
            training = keep_prob < 1
            Z1 = X_batch @ W1 + b1
            A1 = dropout(relu(Z1), keep_prob, training=training)
            Z2 = A1 @ W2 + b2
            A2 = dropout(relu(Z2), keep_prob, training=training)
            A3 = softmax(A2 @ W3 + b3)
            grads = list(backward_mlp_3layer(X_batch, A1, A2, A3, y_batch, W1, W2, W3, Z1, Z2))
            _, l2_grads = l2_regularization([W1, W2, W3], lambda_)
            for i, l2_grad in zip([0, 2, 4], l2_grads):
                grads[i] += l2_grad
            for param, grad in zip(params, grads):
                param -= lr * grad
        _, _, A3_train = forward_mlp_3layer(X_train, W1, b1, W2, b2, W3, b3)
        _, _, A3_test = forward_mlp_3layer(X_test, W1, b1, W2, b2, W3, b3)
        losses.append(cross_entropy(A3_train, y_train))
        accuracies.append(np.mean(np.argmax(A3_test, axis=1) == np.argmax(y_test, axis=1)))
    return losses, accuracies


def init_params():
    return [np.random.randn(784, 256) * 0.01, np.zeros((1, 256)), np.random.randn(256, 128) * 0.01,
            np.zeros((1, 128)), np.random.randn(128, 10) * 0.01, np.zeros((1, 10))]


# Exercise 3: with vs without dropout (keep 0.8), same initial weights
print(f"\nExercise 3: with vs without dropout ({n} images, {num_epochs} epochs)")
params = init_params()
loss_drop, acc_drop = train([p.copy() for p in params], keep_prob=0.8)
loss_plain, acc_plain = train([p.copy() for p in params])
print(f"With dropout: final loss {loss_drop[-1]:.4f}, test accuracy {acc_drop[-1]:.4f}")
print(f"Without dropout: final loss {loss_plain[-1]:.4f}, test accuracy {acc_plain[-1]:.4f}")
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 8))
epochs = range(1, num_epochs + 1)
ax1.plot(epochs, loss_drop, label='With Dropout')
ax1.plot(epochs, loss_plain, label='Without Dropout')
ax1.set_ylabel('Training Loss')
ax1.legend()
ax1.grid(True)
ax2.plot(epochs, acc_drop, label='With Dropout')
ax2.plot(epochs, acc_plain, label='Without Dropout')
ax2.set_xlabel('Epoch')
ax2.set_ylabel('Test Accuracy')
ax2.legend()
ax2.grid(True)
plt.tight_layout()
plt.show()

# Exercise 4: L2 keeps the weights small
print("\nExercise 4: the size of the weights with and without L2 (lambda 0.01)")
params = init_params()
for lambda_ in [0.0, 0.01]:
    trained = [p.copy() for p in params]
    _, acc = train(trained, lambda_=lambda_)
    size = sum(np.sum(W ** 2) for W in trained[0::2])
    print(f"lambda {lambda_}: sum of squared weights {size:.2f}, test accuracy {acc[-1]:.4f}")
