"""
SGD, momentum and Adam on a narrow valley
=========================================

The optimizers step any parameters they are given. Here the parameter is a point (x, y) on the loss
``x**2 / 10 + 2 * y**2``, a valley ten times steeper across than along; each optimizer starts from the same
point and takes 60 steps.
"""

import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn


class Point(nn.Layer):
    """A 'model' with one parameter, a point in the plane, so the optimizers can step it."""

    def __init__(self):
        super().__init__()
        self.params["weight"] = np.array([-4.5, 1.5], dtype=np.float64)
        self.grads["weight"] = np.zeros(2)


def loss_and_grad(p):
    return p[0] ** 2 / 10 + 2 * p[1] ** 2, np.array([p[0] / 5, 4 * p[1]])


fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
gx, gy = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-2, 2, 100))
ax.contour(gx, gy, gx ** 2 / 10 + 2 * gy ** 2, levels=20, colors="lightgray")
for label, make in [("SGD lr 0.1", lambda m: nn.SGD(m, lr=0.1)),
                    ("SGD momentum 0.9", lambda m: nn.SGD(m, lr=0.05, momentum=0.9)),
                    ("Adam lr 0.3", lambda m: nn.Adam(m, lr=0.3))]:
    point = Point()
    optimizer = make(nn.Sequential(point))  # optimizers take a model: Sequential lists its parameters
    path = [point.params["weight"].copy()]
    for _ in range(60):
        _, point.grads["weight"][...] = loss_and_grad(point.params["weight"])
        optimizer.step()
        path.append(point.params["weight"].copy())
    path = np.array(path)
    ax.plot(path[:, 0], path[:, 1], ".-", label=f"{label}: loss {loss_and_grad(path[-1])[0]:.3f}")
ax.set(xlabel="x", ylabel="y", title="60 steps from (-4.5, 1.5)")
ax.legend()
plt.show()
