"""
Hand-set convolution kernels on a digit
=======================================

A ``Conv2d`` with three fixed 3x3 kernels (a Laplacian and two Sobel edge detectors) turns one
(1, 1, 28, 28) digit into three 26x26 feature maps.
"""

import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn
from numpynn import datasets

kernels = {"Laplacian": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
           "vertical edges": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
           "horizontal edges": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]}
(x, _), _ = datasets.load_mnist()
image = datasets.scale(x[0], "255")                       # (28, 28)
conv = nn.Conv2d(1, 3, 3, bias=False)
conv.params["weight"][...] = np.array(list(kernels.values()), dtype=np.float32)[:, None]  # (3, 1, 3, 3)
maps = conv(image[None, None])[0]                          # (1, 1, 28, 28) -> (3, 26, 26)
print("feature maps:", maps.shape)

fig, axes = plt.subplots(1, 4, figsize=(11, 3), layout="constrained")
for ax, img, title in zip(axes, [image, *maps], ["digit", *kernels]):
    ax.imshow(img, cmap="gray")
    ax.set_title(title)
    ax.axis("off")
plt.show()
