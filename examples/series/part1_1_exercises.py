# Part 1.1's four exercises: creating, combining, broadcasting and reshaping arrays (NumPy alone).
# Run it with:  python -m numpynn.article examples/series/part1_1_exercises.py

import numpy as np

# Exercise 1: a 3x4 array of the numbers 1 to 12, its shape and its column sums
A = np.arange(1, 13).reshape(3, 4)
print("Exercise 1:\n", A)
print("Shape:", A.shape)
print("Column sums:", A.sum(axis=0))

# Exercise 2: element-wise product and the sum of two matrices
B = np.ones((3, 4)) * 2
print("Exercise 2: A * B =\n", A * B)
print("A + B first row:", (A + B)[0])

# Exercise 3: broadcasting: subtract each column's mean from a random 5x3 matrix
np.random.seed(42)
C = np.random.randn(5, 3)
centered = C - C.mean(axis=0)
print("Exercise 3: column means before:", np.round(C.mean(axis=0), 4))
print("Column means after centering:", np.round(centered.mean(axis=0), 4) + 0.0)

# Exercise 4: flatten a 28x28 image into 784 values and back
image = np.random.rand(28, 28)
flat = image.reshape(-1)
print("Exercise 4: flattened shape:", flat.shape)
print("Reshaped back equals the image:", np.array_equal(flat.reshape(28, 28), image))
