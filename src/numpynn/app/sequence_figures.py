"""What a sequence model does with an image: attention.png for a Vision Transformer (where the class token looks
among the patches) and steps.png for a recurrent network (its prediction as the rows come in)."""

import numpy as np
from matplotlib.figure import Figure

from numpynn.nn.functional import softmax
from numpynn.nn.sequence import SequencePool
from numpynn.nn.transformer import TransformerEncoderLayer


def class_token_attention(model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(last layer, rollout): the class token's attention over the patches, (n, rows, cols) each.

    Last layer: its weights averaged over heads. Rollout (Abnar & Zuidema, 2020): each layer's weights mixed
    with the residual's identity, (A + I) / 2, multiplied through the layers, so it follows attention to the input.
    """
    was_training = model.training
    model.eval()
    try:
        model.forward(images)
    finally:
        model.train(was_training)
    weights = [layer.self_attn.attn_weights for layer in model.layers if isinstance(layer, TransformerEncoderLayer)]
    n, length, _ = weights[0].shape
    rollout = np.broadcast_to(np.eye(length), (n, length, length))
    for a in weights:
        mixed = (a + np.eye(length)) / 2
        rollout = mixed / mixed.sum(axis=-1, keepdims=True) @ rollout
    side = int(round(np.sqrt(length - 1)))
    grid = images.shape[2] // side, images.shape[3] // side
    shape = (n, images.shape[2] // grid[0], images.shape[3] // grid[1])
    return weights[-1][:, 0, 1:].reshape(shape), rollout[:, 0, 1:].reshape(shape)


def attention_figure(model, images: np.ndarray, labels: np.ndarray) -> Figure:
    """Columns of test digits; rows: the image, the last layer's class-token attention, the rollout over layers."""
    last, rollout = class_token_attention(model, images)
    predicted = model.predict(images)
    n = len(images)
    fig = Figure(figsize=(1.6 * n + 0.6, 5.4), layout="constrained")
    axes = fig.subplots(3, n, squeeze=False)
    h, w = images.shape[2:]
    for j in range(n):
        picture = images[j, 0]
        axes[0, j].imshow(picture, cmap="gray_r")
        axes[0, j].set_title(f"label {labels[j]}, says {predicted[j]}", fontsize=8)
        for row, maps in ((1, last), (2, rollout)):
            big = np.kron(maps[j], np.ones((h // maps.shape[1], w // maps.shape[2])))
            axes[row, j].imshow(picture, cmap="gray_r")
            axes[row, j].imshow(big, cmap="magma", alpha=0.6)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[1, 0].set_ylabel("last layer", fontsize=9)
    axes[2, 0].set_ylabel("rollout", fontsize=9)
    fig.suptitle("Where the class token attends: each patch's share of its attention")
    return fig


def step_probabilities(model, rows: np.ndarray) -> np.ndarray:
    """(n, T, classes): the class probabilities after each step, from the head applied to every step's state."""
    pool = next(i for i, layer in enumerate(model.layers) if isinstance(layer, SequencePool))
    was_training = model.training
    model.eval()
    try:
        x = rows.astype(model.dtype, copy=False)
        for layer in model.layers[:pool]:
            x = layer.forward(x)
        if not model.layers[pool].batch_first:
            x = x.transpose(1, 0, 2)
        n, steps, width = x.shape
        logits = x.reshape(n * steps, width)
        for layer in model.layers[pool + 1:]:
            logits = layer.forward(logits)
    finally:
        model.train(was_training)
    return softmax(logits, axis=1).reshape(n, steps, -1)


def steps_figure(model, rows: np.ndarray, labels: np.ndarray) -> Figure:
    """Columns of test digits: the image, and below it the probability of each class after each row is read."""
    probs = step_probabilities(model, rows)
    n, steps, classes = probs.shape
    fig = Figure(figsize=(1.6 * n + 0.6, 4.6), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    side = int(round(np.sqrt(rows.shape[1])))
    for j in range(n):
        axes[0, j].imshow(rows[j].reshape(side, -1), cmap="gray_r")
        axes[0, j].set_title(f"label {labels[j]}", fontsize=8)
        axes[0, j].set_xticks([])
        axes[0, j].set_yticks([])
        axes[1, j].imshow(probs[j].T, cmap="viridis", vmin=0, vmax=1, aspect="auto", origin="lower")
        axes[1, j].set_yticks(range(classes))
        axes[1, j].tick_params(labelsize=6)
        axes[1, j].set_xlabel("rows read", fontsize=8)
    axes[1, 0].set_ylabel("class probability", fontsize=8)
    fig.suptitle("The prediction as the rows come in (bright: probable)")
    return fig
