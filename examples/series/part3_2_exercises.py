# Part 3.2's four exercises: large logits, one-hot-like rows, the ReLU derivative, and shapes kept.
# Run it with:  python -m numpynn.article examples/series/part3_2_exercises.py

import numpy as np

from neural_network import relu, softmax

# Exercise 1: softmax of large logits does not overflow (the row's max is subtracted first)
big = np.array([[1000.0, 1001.0, 1002.0]])
print("Exercise 1:", np.round(softmax(big), 4))

# Exercise 2: a dominant logit takes almost all the probability
print("Exercise 2:", np.round(softmax(np.array([[10.0, 0.0, 0.0]])), 4))

# Exercise 3: the ReLU derivative is 1 where Z > 0, else 0 (also at Z = 0)
Z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
print("Exercise 3: relu", relu(Z), "derivative", (Z > 0).astype(float))

# Exercise 4: both keep the shape of a batch
np.random.seed(42)
batch = np.random.randn(4, 10)
print("Exercise 4: relu", relu(batch).shape, "softmax", softmax(batch).shape,
      "rows sum to 1:", np.allclose(softmax(batch).sum(axis=1), 1))
