"""Optimizers, in order of complexity, with torch.optim's update rules and defaults so results compare."""

import numpy as np


class Optimizer:
    """Updates every parameter of `model` in place from its grads; per-parameter state lives in `self.state`."""

    def __init__(self, model, lr: float):
        if not lr > 0:
            raise ValueError(f"Learning rate must be positive, got lr={lr}; try 0.1 for SGD or 1e-3 for Adam.")
        self.slots = list(model.parameter_slots())
        if not self.slots:
            raise ValueError("The model has no parameters to optimize; give the optimizer a model with a Linear layer.")
        self.lr = float(lr)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.step_count = 0

    def zero_grad(self) -> None:
        """Set every gradient to zero (backward overwrites them anyway; kept for PyTorch habits)."""
        for _, _, grads, key in self.slots:
            grads[key].fill(0)

    def step(self) -> None:
        self.step_count += 1
        for name, params, grads, key in self.slots:
            self.update(name, params[key], grads[key])

    def update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat {"<param name>.<buffer>": array} plus step count and lr: what resume needs."""
        flat = {f"{name}.{buf}": value.copy() for name, bufs in self.state.items() for buf, value in bufs.items()}
        flat["step_count"] = np.array(self.step_count, dtype=np.int64)
        flat["lr"] = np.array(self.lr, dtype=np.float64)
        return flat

    def load_state_dict(self, flat: dict[str, np.ndarray]) -> None:
        flat = dict(flat)
        self.step_count = int(flat.pop("step_count", 0))
        self.lr = float(flat.pop("lr", self.lr))
        names = {name for name, *_ in self.slots}
        self.state = {}
        for full, value in flat.items():
            name, _, buf = full.rpartition(".")
            if name not in names:
                raise ValueError(f"Optimizer state names parameter {name!r}, which this model does not have.")
            self.state.setdefault(name, {})[buf] = np.array(value)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and L2 weight decay (torch.optim.SGD).

        g = grad + weight_decay * param
        buf = g                                   (first step)
        buf = momentum * buf + (1 - dampening) * g (later steps)
        g = g + momentum * buf if nesterov else buf
        param -= lr * g
    """

    def __init__(self, model, lr: float = 0.01, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(model, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError("momentum and weight_decay must be >= 0.")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening.")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), nesterov

    def update(self, name, param, grad):
        g = grad
        if self.weight_decay:
            g = g + self.weight_decay * param
        if self.momentum:
            state = self.state.setdefault(name, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        param -= self.lr * g


OPTIMIZERS = {"sgd": SGD}
