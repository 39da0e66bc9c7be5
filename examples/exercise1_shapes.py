"""Exercise 1 of the article with the numpynn API: backpropagate through a 2-3-2 MLP and print gradient shapes.

    python examples/exercise1_shapes.py

The article stores W1 as (in, out) = (2, 3); numpynn follows torch.nn.Linear and stores weight as
(out_features, in_features) = (3, 2), so each gradient has its parameter's shape.
"""

import numpy as np

import numpynn as nn


def main(seed: int = 1) -> dict[str, tuple]:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])              # 2 samples, 2 features
    y = np.array([[1.0, 0.0], [0.0, 1.0]])              # one-hot labels, 2 classes
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(2, 3, init="normal", rng=rng, dtype=np.float64), nn.ReLU(),
                          nn.Linear(3, 2, init="normal", rng=rng, dtype=np.float64))
    for layer in (model[0], model[2]):                   # the exercise's W = randn * 0.1, b = 0
        layer.params["weight"][...] = rng.standard_normal(layer.params["weight"].shape) * 0.1
    loss_fn = nn.CrossEntropyLoss()                      # softmax + cross-entropy on the logits
    loss = loss_fn(model(x), y)
    model.backward(loss_fn.backward())                   # fills every layer's grads
    shapes = {name: grad.shape for name, grad in model.grads().items()}
    print(f"Loss: {loss:.4f}")
    for name, shape in shapes.items():
        print(f"Gradient {name} shape: {shape}")
    return shapes


if __name__ == "__main__":
    main()
