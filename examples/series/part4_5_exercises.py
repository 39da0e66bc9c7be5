# Part 4.5's four exercises: momentum by hand, accuracy on both label forms, and momentum against plain SGD.
# Run it offline with:  python -m numpynn.article examples/series/part4_5_exercises.py
# (SERIES_SAMPLES and SERIES_EPOCHS, when set, change exercise 3's 2,000 images and 10 epochs.)

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import fetch_openml
from sklearn.model_selection import train_test_split

from neural_network import (
    accuracy,
    backward_mlp_3layer,
    cross_entropy,
    forward_mlp_3layer,
    momentum_update,
    normalize,
)

# Exercise 1: two momentum steps from a zero velocity
print("Exercise 1: momentum updates")
velocity = np.zeros((2, 2))
for step, gradient in enumerate([np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, 1.5], [2.5, 3.5]])], 1):
    velocity, update = momentum_update(velocity, gradient, mu=0.9, lr=0.1)
    print(f"Velocity after step {step}:\n", np.round(velocity, 10))

# Exercise 2: accuracy takes one-hot labels or class indices
print("\nExercise 2: accuracy")
y_pred = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
y_indices = np.array([1, 0, 1, 0])
y_one_hot = np.eye(3)[y_indices]
print("Accuracy with class indices:", accuracy(y_pred, y_indices))
print("Accuracy with one-hot labels:", accuracy(y_pred, y_one_hot))

# Exercise 3: momentum 0.9 against plain SGD on a small MNIST subset, same initial weights
X_full, y_full = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
n = int(os.environ.get("SERIES_SAMPLES", 2000))
num_epochs = int(os.environ.get("SERIES_EPOCHS", 10))
print(f"\nExercise 3: momentum vs plain SGD ({n} images, {num_epochs} epochs)")
X = normalize(X_full[:n].astype(float))
labels = np.zeros((n, 10))
labels[np.arange(n), y_full[:n].astype(int)] = 1
X_train, X_test, y_train, y_test = train_test_split(X, labels, test_size=0.2, random_state=42)
initial = [np.random.randn(784, 256) * 0.01, np.zeros((1, 256)), np.random.randn(256, 128) * 0.01,
           np.zeros((1, 128)), np.random.randn(128, 10) * 0.01, np.zeros((1, 10))]
results = {}
for mu in [0.0, 0.9]:
    params = [p.copy() for p in initial]
    W1, b1, W2, b2, W3, b3 = params
    velocities = [np.zeros_like(p) for p in params]
    losses, accuracies = [], []
    for _ in range(num_epochs):
        indices = np.random.permutation(X_train.shape[0])
        for start_idx in range(0, X_train.shape[0], 64):
            batch = indices[start_idx:start_idx + 64]
            X_batch, y_batch = X_train[batch], y_train[batch]
            A1, A2, A3 = forward_mlp_3layer(X_batch, W1, b1, W2, b2, W3, b3)
            Z1 = X_batch @ W1 + b1
            Z2 = A1 @ W2 + b2
            grads = backward_mlp_3layer(X_batch, A1, A2, A3, y_batch, W1, W2, W3, Z1, Z2)
            for i, (param, grad) in enumerate(zip(params, grads)):
                velocities[i], update = momentum_update(velocities[i], grad, mu, lr=0.1)
                param += update
        _, _, A3_train = forward_mlp_3layer(X_train, W1, b1, W2, b2, W3, b3)
        _, _, A3_test = forward_mlp_3layer(X_test, W1, b1, W2, b2, W3, b3)
        losses.append(cross_entropy(A3_train, y_train))
        accuracies.append(accuracy(A3_test, y_test))
    results[mu] = (losses, accuracies)
    print(f"mu {mu}: loss per epoch {np.round(losses, 4).tolist()}, final test accuracy {accuracies[-1]:.4f}")
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 8))
for mu, (losses, accuracies) in results.items():
    label = 'Plain SGD' if mu == 0 else f'Momentum {mu}'
    ax1.plot(range(1, num_epochs + 1), losses, label=label)
    ax2.plot(range(1, num_epochs + 1), accuracies, label=label)
ax1.set_ylabel('Training Loss')
ax2.set_ylabel('Test Accuracy')
ax2.set_xlabel('Epoch')
for ax in (ax1, ax2):
    ax.legend()
    ax.grid(True)
plt.tight_layout()
plt.show()

# Exercise 4: momentum in a long, narrow valley, f(w) = w0**2 + 10 * w1**2, 100 steps with lr 0.01
print("\nExercise 4: a narrow valley")
for mu in [0.0, 0.9]:
    w = np.array([1.0, 1.0])
    velocity = np.zeros(2)
    for _ in range(100):
        gradient = np.array([2 * w[0], 20 * w[1]])
        velocity, update = momentum_update(velocity, gradient, mu, lr=0.01)
        w += update
    print(f"mu {mu}: distance to the minimum after 100 steps {np.linalg.norm(w):.4f}")
