# Part 1.1: NumPy arrays, the building block of every network in the series (NumPy alone, no neural_network yet).
# Run it with:  python -m numpynn.article examples/series/part1_1_arrays.py

import numpy as np

# Creating arrays
a = np.array([1, 2, 3, 4, 5])
M = np.array([[1, 2, 3], [4, 5, 6]])
print("1D array:", a)
print("2D array:\n", M)
print("Shape of M:", M.shape, "dtype:", M.dtype)
print("Zeros:\n", np.zeros((2, 3)))
print("Ones shape:", np.ones((3, 2)).shape)

# Element-wise operations and broadcasting
print("a * 2:", a * 2)
print("a + a:", a + a)
print("M + [10, 20, 30]:\n", M + np.array([10, 20, 30]))

# A batch of images: 4 random 28x28 "digits" flattened into rows of 784 pixels, as MNIST is fed to a network
np.random.seed(42)
images = np.random.rand(4, 28, 28)
X = images.reshape(4, -1)
print("Images shape:", images.shape, "-> flattened:", X.shape)
print(f"Mean pixel value: {X.mean():.4f}")
print(f"Max pixel value of the first image: {X[0].max():.4f}")
