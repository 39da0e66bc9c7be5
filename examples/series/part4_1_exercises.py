# Part 4.1's four exercises: a 3-layer MLP's shapes, one update, a small MNIST run, and vanishing gradients.
# Run it offline with:  python -m numpynn.article examples/series/part4_1_exercises.py

import numpy as np
from sklearn.datasets import fetch_openml
from sklearn.model_selection import train_test_split

from neural_network import backward_mlp_3layer, cross_entropy, forward_mlp_3layer, normalize

# Exercise 1: shapes of a small 3-layer MLP (2 -> 4 -> 3 -> 2)
print("Exercise 1: shapes of a 2 -> 4 -> 3 -> 2 MLP")
X = np.array([[1.0, 2.0], [3.0, 4.0]])
y = np.array([[1, 0], [0, 1]])
W1 = np.random.randn(2, 4) * 0.1
b1 = np.zeros((1, 4))
W2 = np.random.randn(4, 3) * 0.1
b2 = np.zeros((1, 3))
W3 = np.random.randn(3, 2) * 0.1
b3 = np.zeros((1, 2))
A1, A2, A3 = forward_mlp_3layer(X, W1, b1, W2, b2, W3, b3)
Z1 = X @ W1 + b1
Z2 = A1 @ W2 + b2
grads = backward_mlp_3layer(X, A1, A2, A3, y, W1, W2, W3, Z1, Z2)
print("A1 shape:", A1.shape)
print("A2 shape:", A2.shape)
print("A3 shape:", A3.shape)
for name, grad in zip(["W1", "b1", "W2", "b2", "W3", "b3"], grads):
    print(f"Gradient {name} shape:", grad.shape)

# Exercise 2: one gradient step on the same data lowers the loss
print("\nExercise 2: one update")
lr = 0.1
initial_loss = cross_entropy(A3, y)
grad_W1, grad_b1, grad_W2, grad_b2, grad_W3, grad_b3 = grads
W1 -= lr * grad_W1
b1 -= lr * grad_b1
W2 -= lr * grad_W2
b2 -= lr * grad_b2
W3 -= lr * grad_W3
b3 -= lr * grad_b3
_, _, A3 = forward_mlp_3layer(X, W1, b1, W2, b2, W3, b3)
final_loss = cross_entropy(A3, y)
print("Initial Loss:", initial_loss)
print("Final Loss after one update:", final_loss)

# Exercise 3: 1,000 MNIST images, 10 epochs, batch size 32
print("\nExercise 3: 1,000 MNIST images, 10 epochs, batch 32")
X_full, y_full = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
X_full = X_full.astype(float)
y_full = y_full.astype(int)
X = normalize(X_full[:1000])
y_one_hot = np.zeros((1000, 10))
y_one_hot[np.arange(1000), y_full[:1000]] = 1
X_train, X_test, y_train, y_test = train_test_split(X, y_one_hot, test_size=0.2, random_state=42)
W1 = np.random.randn(784, 256) * 0.01
b1 = np.zeros((1, 256))
W2 = np.random.randn(256, 128) * 0.01
b2 = np.zeros((1, 128))
W3 = np.random.randn(128, 10) * 0.01
b3 = np.zeros((1, 10))
lr = 0.1
num_epochs = 10
batch_size = 32
n_samples = X_train.shape[0]
for epoch in range(num_epochs):
    indices = np.random.permutation(n_samples)
    X_shuffled = X_train[indices]
    y_shuffled = y_train[indices]
    for start_idx in range(0, n_samples, batch_size):
        X_batch = X_shuffled[start_idx:start_idx + batch_size]
        y_batch = y_shuffled[start_idx:start_idx + batch_size]
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
    _, _, A3_full = forward_mlp_3layer(X_train, W1, b1, W2, b2, W3, b3)
    print(f"Epoch {epoch+1}/{num_epochs}, Loss: {cross_entropy(A3_full, y_train):.4f}")
_, _, A3_test = forward_mlp_3layer(X_test, W1, b1, W2, b2, W3, b3)
print("Test Accuracy:", np.mean(np.argmax(A3_test, axis=1) == np.argmax(y_test, axis=1)))

# Exercise 4: mean |gradient| per layer on the first batch of a fresh network (vanishing gradients)
print("\nExercise 4: mean |gradient| per layer on the first batch")
W1 = np.random.randn(784, 256) * 0.01
b1 = np.zeros((1, 256))
W2 = np.random.randn(256, 128) * 0.01
b2 = np.zeros((1, 128))
W3 = np.random.randn(128, 10) * 0.01
b3 = np.zeros((1, 10))
X_batch, y_batch = X_train[:32], y_train[:32]
A1, A2, A3 = forward_mlp_3layer(X_batch, W1, b1, W2, b2, W3, b3)
Z1 = X_batch @ W1 + b1
Z2 = A1 @ W2 + b2
grad_W1, _, grad_W2, _, grad_W3, _ = backward_mlp_3layer(X_batch, A1, A2, A3, y_batch, W1, W2, W3, Z1, Z2)
for name, grad in [("W1", grad_W1), ("W2", grad_W2), ("W3", grad_W3)]:
    print(f"Mean |gradient| of {name}: {np.mean(np.abs(grad)):.2e}")
print("The first layer's gradients are the smallest: with weights of 0.01 each layer shrinks the signal "
      "passed back to the one before it.")
