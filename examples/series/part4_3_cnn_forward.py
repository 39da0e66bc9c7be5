# Part 4.3, Pooling and CNN Architecture: a forward pass conv -> max pool -> flatten -> dense -> softmax.
# Run it offline with:  python -m numpynn.article examples/series/part4_3_cnn_forward.py
# No training: the filters and the dense layer are random, so every class gets a probability near 0.1.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import fetch_openml

from neural_network import conv2d, max_pool, softmax

# Load 4 MNIST images as 28x28 arrays
print("Loading MNIST data...")
X_full, y_full = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
images = X_full[:4].reshape(4, 28, 28) / 255.0

# 8 random 3x3 filters
n_filters = 8
filters = np.random.randn(n_filters, 3, 3) * 0.1

# Convolution: (4, 28, 28) -> (4, 26, 26, 8)
conv_out = np.zeros((4, 26, 26, n_filters))
for i in range(4):
    for f in range(n_filters):
        conv_out[i, :, :, f] = conv2d(images[i], filters[f])
print("After convolution:", conv_out.shape)

# Max pooling, 2x2 windows with stride 2: (4, 26, 26, 8) -> (4, 13, 13, 8)
pooled = np.array([max_pool(conv_out[i], size=2, stride=2) for i in range(4)])
print("After max pooling:", pooled.shape)

# Flatten: (4, 13, 13, 8) -> (4, 1352)
flat = pooled.reshape(4, -1)
print("After flattening:", flat.shape)

# A random dense layer and softmax: (4, 1352) -> (4, 10)
W_dense = np.random.randn(flat.shape[1], 10) * 0.01
b_dense = np.zeros((1, 10))
probabilities = softmax(flat @ W_dense + b_dense)
print("Output probabilities:", probabilities.shape)
print("Probabilities of the first image:", np.round(probabilities[0], 3))
print("Each row sums to 1:", np.allclose(probabilities.sum(axis=1), 1))

# The first image, its 8 feature maps and their pooled versions
fig, axes = plt.subplots(3, n_filters, figsize=(16, 6))
for f in range(n_filters):
    axes[0, f].imshow(images[0] if f == 0 else np.zeros((28, 28)), cmap='gray')
    axes[1, f].imshow(conv_out[0, :, :, f], cmap='gray')
    axes[2, f].imshow(pooled[0, :, :, f], cmap='gray')
    axes[1, f].set_title(f'filter {f + 1}')
axes[0, 0].set_title('input')
axes[1, 0].set_ylabel('26x26 map')
axes[2, 0].set_ylabel('13x13 pooled')
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
for ax in axes[0, 1:]:
    ax.set_visible(False)
plt.tight_layout()
plt.show()
