# Part 1.3's four exercises: sigmoid values, a matrix, the derivative at 0, a numerical derivative.
# Run it with:  python -m numpynn.article examples/series/part1_3_exercises.py

import numpy as np

from neural_network import sigmoid

# Exercise 1: sigmoid of 0 and of large values
print("Exercise 1: sigmoid(0) =", sigmoid(np.array(0.0)))
print("sigmoid(10) =", round(float(sigmoid(np.array(10.0))), 6),
      "sigmoid(-10) =", round(float(sigmoid(np.array(-10.0))), 6))

# Exercise 2: sigmoid applied element-wise to a matrix keeps its shape
M = np.array([[0.0, 1.0, -1.0], [2.0, -2.0, 0.5]])
S = sigmoid(M)
print("Exercise 2: shape", S.shape, "\n", np.round(S, 4))

# Exercise 3: the derivative sigmoid(z) * (1 - sigmoid(z)) is largest at z = 0, where it is 0.25
s0 = sigmoid(np.array(0.0))
print("Exercise 3: derivative at 0 =", s0 * (1 - s0))

# Exercise 4: a central-difference derivative of f(x) = x**2 at x = 3
f = lambda x: x ** 2
h = 1e-5
print(f"Exercise 4: numerical derivative of x**2 at 3: {(f(3 + h) - f(3 - h)) / (2 * h):.6f}")
