# Part 4.2, Convolutional Layers: one MNIST digit convolved with a 3x3 Laplacian-like edge kernel.
# Run it offline with:  python -m numpynn.article examples/series/part4_2_convolution.py

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import fetch_openml

from neural_network import conv2d

# Load one MNIST image as a 28x28 array
print("Loading MNIST data...")
X_full, y_full = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
image = X_full[0].reshape(28, 28).astype(float)

# An edge-detection kernel: 8 in the centre, -1 around it (it sums to zero, so flat regions give 0)
kernel = np.array([[-1, -1, -1],
                   [-1, 8, -1],
                   [-1, -1, -1]], dtype=float)

# Convolve (no padding, stride 1): 28x28 -> 26x26
feature_map = conv2d(image, kernel, stride=1)
print("Input image shape:", image.shape)
print("Kernel shape:", kernel.shape)
print("Feature map shape:", feature_map.shape)

# Show the image and its feature map side by side
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 5))
ax1.imshow(image, cmap='gray')
ax1.set_title(f'MNIST digit (label {y_full[0]})')
ax1.axis('off')
ax2.imshow(feature_map, cmap='gray')
ax2.set_title('Feature map (edge kernel)')
ax2.axis('off')
plt.tight_layout()
plt.show()
