"""
Activations and their derivatives
=================================

Each activation layer's ``backward`` multiplies the incoming gradient by the activation's derivative.
Feeding it a gradient of ones gives the derivative itself, which this example draws beside the function.
"""

import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn

z = np.linspace(-4, 4, 401, dtype=np.float32)[None, :]  # (1, 401): one row of pre-activations
fig, axes = plt.subplots(1, 4, figsize=(12, 3), layout="constrained", sharey=True)
for ax, layer in zip(axes, [nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.GELU()]):
    a = layer.forward(z)
    derivative = layer.backward(np.ones_like(z))  # dL/dz when dL/da = 1
    ax.plot(z[0], a[0], label="f(z)")
    ax.plot(z[0], derivative[0], "--", label="f'(z)")
    ax.set_title(type(layer).__name__)
    ax.grid(True, alpha=0.3)
axes[0].legend()
plt.show()
