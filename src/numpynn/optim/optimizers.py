"""Optimizers, in order of complexity, with torch.optim's update rules and defaults so results compare."""

import math

import numpy as np

from numpynn.optim.blas import axpy, scal, uses_blas


def check_hyperparameters(owner: str, **values: float) -> None:
    """Refuse NaN and infinite hyperparameters: they pass `x >= 0` checks (inf) and then poison every weight."""
    for name, value in values.items():
        try:
            finite = math.isfinite(value)
        except TypeError:
            raise ValueError(f"{owner} {name} must be a number, got {value!r}.") from None
        if not finite:
            raise ValueError(f"{owner} {name} must be a finite number, got {value}; e.g. lr=0.1, momentum=0.9.")


class Optimizer:
    """Updates every parameter of `model` in place from its grads; per-parameter state lives in `self.state`."""

    def __init__(self, model, lr: float):
        check_hyperparameters(type(self).__name__, lr=lr)
        if not lr > 0:
            raise ValueError(f"Learning rate must be positive, got lr={lr}; try 0.1 for SGD or 1e-3 for Adam.")
        self.slots = list(model.parameter_slots())
        if not self.slots:
            raise ValueError("The model has no parameters to optimize; give the optimizer a model with a Linear layer.")
        self.lr = float(lr)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.step_count = 0
        self._scratch_buffers: dict[str, np.ndarray] = {}  # working memory per parameter; never saved

    def zero_grad(self) -> None:
        """Set every gradient to zero (backward overwrites them anyway; kept for PyTorch habits)."""
        for _, _, grads, key, _ in self.slots:
            grads[key].fill(0)

    def step(self) -> None:
        """One update of every parameter that is not frozen (a frozen one, and its state, stay as they are)."""
        self.step_count += 1
        for name, params, grads, key, frozen in self.slots:
            if key not in frozen:
                self.update(name, params[key], grads[key])

    def update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def _scratch_buffer(self, name: str, param: np.ndarray) -> np.ndarray:
        """An array like `param`, kept between steps: updates write their intermediate terms into it instead of
        allocating fresh temporaries (4 MB each for a 1024x1024 weight, page faults included)."""
        tmp = self._scratch_buffers.get(name)
        if tmp is None or tmp.shape != param.shape or tmp.dtype != param.dtype:
            tmp = self._scratch_buffers[name] = np.empty_like(param)
        return tmp

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
        params = {name: params[key] for name, params, _, key, _ in self.slots}
        self.state = {}
        for full, value in flat.items():
            name, _, buf = full.rpartition(".")
            if name not in params:
                raise ValueError(f"Optimizer state names parameter {name!r}, which this model does not have.")
            if np.shape(value) == params[name].shape:
                # In the parameter's memory layout, as a fresh run makes it: a resumed run then takes the same
                # path through axpy (BLAS needs equal layouts) and ends bit-identical.
                copy = np.empty_like(params[name], dtype=np.asarray(value).dtype)
                copy[...] = value
            else:
                copy = np.array(value)
            self.state.setdefault(name, {})[buf] = copy


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
        check_hyperparameters("SGD", momentum=momentum, dampening=dampening, weight_decay=weight_decay)
        if momentum < 0 or weight_decay < 0:
            raise ValueError("momentum and weight_decay must be >= 0.")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening.")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), nesterov

    def update(self, name, param, grad):
        # The rule above, expanded into in-place scal/axpy passes (one multi-threaded OpenBLAS pass each where
        # NumPy ships OpenBLAS, see blas.py; no temporaries): g = grad + weight_decay * param is never built,
        # each use of g adds its two terms instead. The mnist-99 model (1.9 M weights, momentum and decay):
        # ~4 -> ~1.7 ms a step against NumPy with scratch buffers; 784-256-10 at batch 64: 0-7 % an epoch.
        lr, wd, mom, damp = self.lr, self.weight_decay, self.momentum, self.dampening
        tmp = self._scratch(name, param, grad)
        if not mom:
            if wd:
                scal(1 - lr * wd, param)  # param -= lr * wd * param
            axpy(-lr, grad, param, tmp)
            return
        state = self.state.setdefault(name, {})
        buf = state.get("momentum_buffer")
        if buf is None:  # buf = g
            buf = state["momentum_buffer"] = np.array(grad, copy=True)
            if wd:
                axpy(wd, param, buf, tmp)
        else:  # buf = momentum * buf + (1 - dampening) * g
            scal(mom, buf)
            axpy(1 - damp, grad, buf, tmp)
            if wd:
                axpy((1 - damp) * wd, param, buf, tmp)
        if self.nesterov:  # param -= lr * (g + momentum * buf)
            if wd:
                scal(1 - lr * wd, param)
            axpy(-lr, grad, param, tmp)
            axpy(-lr * mom, buf, param, tmp)
        else:
            axpy(-lr, buf, param, tmp)

    def _scratch(self, name, param, grad):
        """None where OpenBLAS updates in place; else the parameter's scratch buffer for NumPy's alpha * x."""
        return None if uses_blas(grad, param) else self._scratch_buffer(name, param)


def _check_betas(betas, eps, weight_decay):
    b1, b2 = (float(b) for b in betas)
    check_hyperparameters("Adam", beta1=b1, beta2=b2, eps=eps, weight_decay=weight_decay)
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"betas must each be in [0, 1), got {tuple(betas)}; the usual choice is (0.9, 0.999).")
    if eps < 0 or weight_decay < 0:
        raise ValueError("eps and weight_decay must be >= 0.")
    return b1, b2


class Adam(Optimizer):
    """Adam with bias correction, optional AMSGrad and L2 weight decay added to the gradient (torch.optim.Adam).

        g = grad + weight_decay * param
        exp_avg = beta1 * exp_avg + (1 - beta1) * g
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
        v = max(max_exp_avg_sq, exp_avg_sq) if amsgrad else exp_avg_sq   (kept as max_exp_avg_sq)
        denom = sqrt(v) / sqrt(1 - beta2 ** t) + eps
        param -= lr / (1 - beta1 ** t) * exp_avg / denom
    """

    def __init__(self, model, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(model, lr)
        self.beta1, self.beta2 = _check_betas(betas, eps, weight_decay)
        self.eps, self.weight_decay, self.amsgrad = float(eps), float(weight_decay), bool(amsgrad)

    def update(self, name, param, grad):
        g = grad + self.weight_decay * param if self.weight_decay else grad
        self._adam(name, param, g)

    def _adam(self, name, param, g):
        state = self.state.setdefault(name, {})
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(param), np.zeros_like(param)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        # Every term goes through one scratch buffer, in the order of the rule's own arithmetic: the same
        # values as the expressions above, without their five temporaries (1.9 M weights: 11.3 -> 9.0 ms a step).
        tmp = self._scratch_buffer(name, param)
        exp_avg *= self.beta1
        exp_avg += np.multiply(g, 1 - self.beta1, out=tmp)
        exp_avg_sq *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        exp_avg_sq += tmp
        v = exp_avg_sq
        if self.amsgrad:
            v = np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        t = self.step_count  # every parameter steps together, so one count serves as torch's per-param "step"
        denom = np.sqrt(v, out=tmp)
        denom /= math.sqrt(1 - self.beta2 ** t)
        denom += self.eps
        step = np.divide(exp_avg, denom, out=tmp)
        step *= self.lr / (1 - self.beta1 ** t)
        param -= step


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): the decay shrinks param, it never enters the moments.

        param *= 1 - lr * weight_decay
        (then Adam's update above with g = grad)
    """

    def __init__(self, model, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(model, lr, betas, eps, weight_decay, amsgrad)

    def update(self, name, param, grad):
        if self.weight_decay:
            param *= 1 - self.lr * self.weight_decay
        self._adam(name, param, grad)


class RMSprop(Optimizer):
    """RMSprop with optional momentum, centering and L2 weight decay (torch.optim.RMSprop).

        g = grad + weight_decay * param
        square_avg = alpha * square_avg + (1 - alpha) * g * g
        grad_avg = alpha * grad_avg + (1 - alpha) * g                   (centered only)
        avg = sqrt(square_avg - grad_avg ** 2) + eps if centered else sqrt(square_avg) + eps
        buf = momentum * buf + g / avg; param -= lr * buf              (momentum > 0)
        param -= lr * g / avg                                          (momentum == 0)
    """

    def __init__(self, model, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False):
        super().__init__(model, lr)
        check_hyperparameters("RMSprop", alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        if not 0 <= alpha <= 1 or eps < 0 or weight_decay < 0 or momentum < 0:
            raise ValueError("RMSprop needs 0 <= alpha <= 1 and eps, weight_decay, momentum >= 0.")
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)
        self.momentum, self.centered = float(momentum), bool(centered)

    def update(self, name, param, grad):
        g = grad + self.weight_decay * param if self.weight_decay else grad
        state = self.state.setdefault(name, {})
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(param)
            if self.centered:
                state["grad_avg"] = np.zeros_like(param)
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(param)
        square_avg = state["square_avg"]
        # As in Adam: each term into one scratch buffer, same values as the rule's expressions, no temporaries.
        tmp = self._scratch_buffer(name, param)
        square_avg *= self.alpha
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.alpha
        square_avg += tmp
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg *= self.alpha
            grad_avg += np.multiply(g, 1 - self.alpha, out=tmp)
            np.multiply(grad_avg, grad_avg, out=tmp)
            avg = np.sqrt(np.subtract(square_avg, tmp, out=tmp), out=tmp)
        else:
            avg = np.sqrt(square_avg, out=tmp)
        avg += self.eps
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += np.divide(g, avg, out=tmp)
            param -= np.multiply(buf, self.lr, out=tmp)
        else:
            step = np.divide(g, avg, out=tmp)
            step *= self.lr
            param -= step


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}
