"""
Train an MLP on MNIST in a few lines
====================================

``mlp`` builds the network, ``fit`` runs the loop (shuffle, forward, backward, update, evaluate) and
returns the history, one record per epoch.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn
from numpynn import datasets

small = os.environ.get("NUMPYNN_NOTEBOOK_SMALL") == "1"
n, epochs = (1000, 3) if small else (10000, 10)

(x, y), (x_test, y_test) = datasets.load_mnist()  # the bundled copy: no network needed
x = datasets.scale(datasets.flatten(x[:n]), "255")  # (n, 784) float32 in [0, 1]
x_test = datasets.scale(datasets.flatten(x_test[:n // 5]), "255")
y, y_test = y[:n].astype(np.int64), y_test[:n // 5].astype(np.int64)

model = nn.mlp([784, 64, 10], seed=0)
history = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1, momentum=0.9), x, y,
                 epochs=epochs, batch_size=64, validation_data=(x_test, y_test), seed=0)
print(history.last)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
ax1.plot(history["epoch"], history["train_loss"], "o-", label="training")
ax1.plot(history["epoch"], history["val_loss"], "o-", label="held out")
ax1.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
ax1.legend()
ax2.plot(history["epoch"], history["val_acc"], "o-", color="green")
ax2.set(xlabel="epoch", ylabel="accuracy", title="Held-out accuracy")
plt.show()
