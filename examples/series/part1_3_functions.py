# Part 1.3: mathematical functions for neural networks: the sigmoid, its derivative, and a plot.
# Run it with:  python -m numpynn.article examples/series/part1_3_functions.py

import matplotlib.pyplot as plt
import numpy as np

from neural_network import sigmoid

Z = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
A = sigmoid(Z)
print("Z:", Z)
print("sigmoid(Z):", np.round(A, 4))
print("Derivative sigmoid(Z) * (1 - sigmoid(Z)):", np.round(A * (1 - A), 4))

z = np.linspace(-10, 10, 200)
plt.figure(figsize=(8, 4))
plt.plot(z, sigmoid(z), label='sigmoid')
plt.plot(z, sigmoid(z) * (1 - sigmoid(z)), label='derivative')
plt.title('Sigmoid and its derivative')
plt.xlabel('z')
plt.legend()
plt.grid(True)
plt.show()
