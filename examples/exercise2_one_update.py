"""Exercise 2 of the article with the numpynn API: one SGD update (lr 0.1) on the 2-3-2 MLP lowers the loss.

    python examples/exercise2_one_update.py

Try main(seed=0): all three hidden ReLUs start negative for both samples, every gradient is zero and the
loss does not move. That is a dead network, the small-scale cousin of the vanishing gradients in
examples/vanishing_gradients.py.
"""

import numpy as np

import numpynn as nn


def main(seed: int = 1, lr: float = 0.1) -> tuple[float, float]:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(2, 3, init="normal", rng=rng, dtype=np.float64), nn.ReLU(),
                          nn.Linear(3, 2, init="normal", rng=rng, dtype=np.float64))
    for layer in (model[0], model[2]):
        layer.params["weight"][...] = rng.standard_normal(layer.params["weight"].shape) * 0.1
    loss_fn, optimizer = nn.CrossEntropyLoss(), nn.SGD(model, lr=lr)

    initial_loss = loss_fn(model(x), y)                  # forward
    model.backward(loss_fn.backward())                   # backward
    optimizer.step()                                     # param -= lr * grad, for every parameter
    final_loss = loss_fn(model(x), y)                    # forward again with the updated weights
    print("Initial Loss:", initial_loss)
    print("Final Loss after one update:", final_loss)
    return initial_loss, final_loss


if __name__ == "__main__":
    main()
