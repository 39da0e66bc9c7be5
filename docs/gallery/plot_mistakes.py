"""
What a small network gets wrong
===============================

A 784-64-10 MLP trained for a few seconds, its confusion matrix on held-out digits, and the digits it
misread with what it read instead.
"""

import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn
from numpynn import datasets

(x, y), (x_test, y_test) = datasets.load_mnist()
x = datasets.scale(datasets.flatten(x[:2000]), "255")
x_test = datasets.scale(datasets.flatten(x_test[:500]), "255")
y, y_test = y[:2000].astype(np.int64), y_test[:500].astype(np.int64)

model = nn.mlp([784, 64, 10], seed=0)
nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model, lr=1e-3), x, y, epochs=3, batch_size=32, seed=0, verbose=0)
predicted = model.predict(x_test)
print(f"accuracy on 500 test digits: {nn.accuracy(y_test, predicted):.3f}")

fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
ax.imshow(nn.confusion_matrix(y_test, predicted, num_classes=10), cmap="Blues")
ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10), title="Confusion matrix")
plt.show()

wrong = np.flatnonzero(predicted != y_test)[:10]
fig, axes = plt.subplots(1, len(wrong), figsize=(1.2 * len(wrong), 1.6), layout="constrained")
for ax, i in zip(np.atleast_1d(axes), wrong):
    ax.imshow(x_test[i].reshape(28, 28), cmap="gray")
    ax.set_title(f"{y_test[i]} as {predicted[i]}", fontsize=9)
    ax.axis("off")
plt.show()
