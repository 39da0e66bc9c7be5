"""Part 4.3 with numpynn's API: the forward pass conv -> max pool -> flatten -> dense -> softmax as a Sequential.

    python examples/series/part4_3_numpynn.py [--out DIR]

Four MNIST digits, 8 random 3x3 filters (N(0, 0.1), as the series draws them), 2x2 max pooling, a random
Linear(1352, 10) (N(0, 0.01)); untrained, so every class gets a probability near 0.1. numpynn keeps images
NCHW, as torch does: (4, 1, 28, 28) -> (4, 8, 26, 26) -> (4, 8, 13, 13) -> (4, 1352) -> (4, 10).
Writes DIR/part4_3.png (default runs/series): the first digit's 8 feature maps and their pooled versions.
"""

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import numpynn as nn
from numpynn import datasets
from numpynn.app import figures as plots


def main(out: str = "runs/series", seed: int = 0) -> dict[str, tuple]:
    (x, _), _ = datasets.load_mnist()
    images = datasets.scale(x[:4], "255")[:, None]                  # (4, 1, 28, 28) float32 in [0, 1]
    rng = np.random.default_rng(seed)
    conv = nn.Conv2d(1, 8, 3, bias=False)
    conv.params["weight"][...] = rng.standard_normal((8, 1, 3, 3)) * 0.1
    model = nn.Sequential(conv, nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10, init="normal", rng=rng))
    shapes, a = {"input": images.shape}, images
    for layer in model.layers:
        a = layer.forward(a)
        shapes[type(layer).__name__] = a.shape
    probabilities = nn.functional.softmax(a, axis=1)
    shapes["softmax"] = probabilities.shape
    for name, shape in shapes.items():
        print(f"{name:>9}: {shape}")
    print("Probabilities of the first digit:", np.round(probabilities[0], 3))
    feature_maps = conv.forward(images[:1])[0]
    pooled = nn.functional.max_pool2d(feature_maps[None], 2)[0]
    fig = Figure(figsize=(14, 4), layout="constrained")
    axes = fig.subplots(2, 8)
    for f in range(8):
        axes[0, f].imshow(feature_maps[f], cmap="gray")
        axes[0, f].set_title(f"filter {f + 1}, 26x26", fontsize=8)
        axes[1, f].imshow(pooled[f], cmap="gray")
        axes[1, f].set_title("pooled, 13x13", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    print(f"Wrote {plots.save_figure(fig, Path(out) / 'part4_3.png')}")
    return shapes


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/series", help="folder for part4_3.png")
    main(parser.parse_args().out)
