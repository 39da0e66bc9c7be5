# Part 4.2's four exercises: an averaging kernel with strides 1 and 2, the kernel flip, and several filters.
# Run it offline with:  python -m numpynn.article examples/series/part4_2_exercises.py

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import fetch_openml

from neural_network import conv2d

# Exercise 1: a 2x2 averaging kernel on a small 4x4 image, stride 1
print("Exercise 1: 2x2 averaging kernel, stride 1")
image = np.array([[1, 1, 1, 1],
                  [1, 2, 2, 1],
                  [1, 2, 2, 1],
                  [1, 1, 1, 1]], dtype=float)
kernel = np.ones((2, 2)) / 4
output = conv2d(image, kernel, stride=1)
print("Output shape:", output.shape)
print(output)

# Exercise 2: the same kernel with stride 2 keeps every second row and column
print("\nExercise 2: the same kernel, stride 2")
output = conv2d(image, kernel, stride=2)
print("Output shape:", output.shape)
print(output)

# Exercise 3: conv2d is a true convolution, it flips the kernel; an asymmetric kernel shows it
print("\nExercise 3: convolution flips the kernel")
X_full, y_full = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
digit = X_full[0].reshape(28, 28).astype(float)
sobel_x = np.array([[1, 0, -1],
                    [2, 0, -2],
                    [1, 0, -1]], dtype=float)
convolved = conv2d(digit, sobel_x)
# Cross-correlation, the sliding dot product the text describes, written out with loops:
correlated = np.zeros((26, 26))
for i in range(26):
    for j in range(26):
        correlated[i, j] = np.sum(digit[i:i + 3, j:j + 3] * sobel_x)
print("Feature map shape:", convolved.shape)
print("conv2d equals the negated cross-correlation:", np.allclose(convolved, -correlated))
print("conv2d with the flipped kernel equals the cross-correlation:",
      np.allclose(conv2d(digit, sobel_x[::-1, ::-1]), correlated))

# Exercise 4: three filters on one digit, strides 1 and 2
print("\nExercise 4: three filters on one digit")
filters = {
    "vertical edges": sobel_x,
    "horizontal edges": sobel_x.T,
    "blur": np.ones((3, 3)) / 9,
}
fig, axes = plt.subplots(1, 4, figsize=(16, 4))
axes[0].imshow(digit, cmap='gray')
axes[0].set_title('Input')
for ax, (name, f) in zip(axes[1:], filters.items()):
    fmap = conv2d(digit, f, stride=1)
    print(f"{name}: stride 1 -> {fmap.shape}, stride 2 -> {conv2d(digit, f, stride=2).shape}")
    ax.imshow(fmap, cmap='gray')
    ax.set_title(name)
for ax in axes:
    ax.axis('off')
plt.tight_layout()
plt.show()
