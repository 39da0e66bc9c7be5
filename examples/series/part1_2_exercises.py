# Part 1.2's four exercises: a product by hand, a constant column, loops against matrix_multiply, layer shapes.
# Run it with:  python -m numpynn.article examples/series/part1_2_exercises.py

import numpy as np

from neural_network import matrix_multiply, normalize

# Exercise 1: a 2x2 product you can check by hand
A = np.array([[1.0, 2.0], [3.0, 4.0]])
B = np.array([[5.0, 6.0], [7.0, 8.0]])
print("Exercise 1:\n", matrix_multiply(A, B))

# Exercise 2: normalize a matrix whose first column is constant: no division by zero, that column becomes 0
X = np.array([[1.0, 2.0, 3.0],
              [1.0, 4.0, 5.0],
              [1.0, 6.0, 10.0]])
print("Exercise 2:\n", np.round(normalize(X), 4))

# Exercise 3: matrix_multiply equals the triple loop
np.random.seed(42)
P, Q = np.random.randn(4, 3), np.random.randn(3, 5)
loops = np.zeros((4, 5))
for i in range(4):
    for j in range(5):
        for k in range(3):
            loops[i, j] += P[i, k] * Q[k, j]
print("Exercise 3: loops equal matrix_multiply:", np.allclose(loops, matrix_multiply(P, Q)))

# Exercise 4: the shapes of a layer from 784 pixels to 10 outputs, for a batch of 4 images
images = np.random.rand(4, 784)
W = np.random.randn(784, 10) * 0.01
print("Exercise 4: (4, 784) @ (784, 10) ->", matrix_multiply(images, W).shape)
