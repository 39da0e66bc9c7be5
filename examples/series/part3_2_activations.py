# Part 3.2: activation functions: ReLU for hidden layers, softmax for class probabilities.
# Run it with:  python -m numpynn.article examples/series/part3_2_activations.py

import matplotlib.pyplot as plt
import numpy as np

from neural_network import relu, sigmoid, softmax

Z = np.array([[-1.0, 0.0, 2.0],
              [1.0, 2.0, 3.0]])
print("ReLU:\n", relu(Z))
probs = softmax(Z)
print("Softmax:\n", np.round(probs, 4))
print("Row sums:", probs.sum(axis=1))

z = np.linspace(-5, 5, 200)
plt.figure(figsize=(8, 4))
plt.plot(z, relu(z), label='ReLU')
plt.plot(z, sigmoid(z), label='sigmoid')
plt.title('Activation functions')
plt.legend()
plt.grid(True)
plt.show()
