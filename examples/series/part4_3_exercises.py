# Part 4.3's four exercises: max pooling by hand, overlapping windows, channel axes, and conv -> pool on a digit.
# Run it offline with:  python -m numpynn.article examples/series/part4_3_exercises.py

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import fetch_openml

from neural_network import conv2d, max_pool

# Exercise 1: 2x2 max pooling with stride 2 on the 4x4 matrix 1..16
print("Exercise 1: max pooling, size 2, stride 2")
X = np.arange(1, 17, dtype=float).reshape(4, 4)
print(X)
pooled = max_pool(X, size=2, stride=2)
print("Pooled shape:", pooled.shape)
print(pooled)

# Exercise 2: overlapping windows, stride 1
print("\nExercise 2: max pooling, size 2, stride 1")
pooled = max_pool(X, size=2, stride=1)
print("Pooled shape:", pooled.shape)
print(pooled)

# Exercise 3: a channel axis; one channel of size 1 is dropped
print("\nExercise 3: channels")
one_channel = X.reshape(4, 4, 1)
three_channels = np.stack([X, 2 * X, -X], axis=2)
print("(4, 4, 1) ->", max_pool(one_channel).shape)
print("(4, 4, 3) ->", max_pool(three_channels).shape)
print("Channel 2 of the pooled (4, 4, 3) input:\n", max_pool(three_channels)[:, :, 1])

# Exercise 4: convolution then pooling on one MNIST digit: 28x28 -> 26x26 -> 13x13
print("\nExercise 4: conv -> pool on a digit")
X_full, y_full = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
digit = X_full[0].reshape(28, 28).astype(float)
kernel = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float)
feature_map = conv2d(digit, kernel)
pooled = max_pool(feature_map, size=2, stride=2)
print("Image:", digit.shape, "-> feature map:", feature_map.shape, "-> pooled:", pooled.shape)
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, img, title in zip(axes, [digit, feature_map, pooled], ['28x28 digit', '26x26 feature map', '13x13 pooled']):
    ax.imshow(img, cmap='gray')
    ax.set_title(title)
    ax.axis('off')
plt.tight_layout()
plt.show()
