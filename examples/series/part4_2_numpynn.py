"""Part 4.2 with numpynn's API: one MNIST digit through a Conv2d with three hand-set 3x3 kernels, as feature maps.

    python examples/series/part4_2_numpynn.py [--out DIR]

Conv2d cross-correlates, as torch's does; the series' conv2d convolves (it flips the kernel, as SciPy does).
For the symmetric Laplacian the two agree; for the Sobel kernels the maps are each other's negation, which
the script checks against neural_network.conv2d. Writes DIR/part4_2.png (default runs/series).
"""

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import neural_network
import numpynn as nn
from numpynn import datasets
from numpynn.app import figures as plots

KERNELS = {
    "Laplacian": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "vertical edges (Sobel)": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "horizontal edges (Sobel)": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
}


def main(out: str = "runs/series") -> np.ndarray:
    (x, _), _ = datasets.load_mnist()
    image = x[0].astype(np.float32)                                  # (28, 28)
    conv = nn.Conv2d(1, len(KERNELS), 3, bias=False)
    conv.params["weight"][...] = np.array(list(KERNELS.values()), dtype=np.float32)[:, None]  # (3, 1, 3, 3)
    maps = conv.forward(image[None, None])[0]                        # (1, 1, 28, 28) -> (3, 26, 26)
    print(f"Input {image.shape} -> feature maps {maps.shape} (one per kernel)")
    for name, kernel, fmap in zip(KERNELS, np.array(list(KERNELS.values())), maps):
        series = neural_network.conv2d(image, kernel)  # a true convolution
        sign = "the same as" if np.allclose(fmap, series, atol=1e-3) else (
            "the negation of" if np.allclose(fmap, -series, atol=1e-3) else "different from")
        print(f"{name}: Conv2d's map is {sign} the series' conv2d map")
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    axes = fig.subplots(1, 1 + len(maps))
    for ax, img, title in zip(axes, [image, *maps], ["digit", *KERNELS]):
        ax.imshow(img, cmap="gray")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    print(f"Wrote {plots.save_figure(fig, Path(out) / 'part4_2.png')}")
    return maps


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/series", help="folder for part4_2.png")
    main(parser.parse_args().out)
