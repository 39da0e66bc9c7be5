"""Learning-rate schedules with torch.optim.lr_scheduler's names and formulas, stepped once per epoch.

Each schedule sets `optimizer.lr` from a closed form of its epoch counter, so `state_dict()` is two numbers
and composing schedules (SequentialLR) is exact. As in torch, the first schedule built on an optimizer
records its lr as `optimizer.initial_lr`; later ones start from that, not from an lr a warm-up lowered.
"""

import bisect
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the hints only
    from numpynn.optim.optimizers import Optimizer


class LRScheduler:
    """Base: `step()` advances one epoch and writes `lr_at(last_epoch)` into `optimizer.lr`."""

    def __init__(self, optimizer: "Optimizer"):
        if not hasattr(optimizer, "initial_lr"):
            optimizer.initial_lr = optimizer.lr
        self.optimizer = optimizer
        self.base_lr = float(optimizer.initial_lr)
        self.last_epoch = 0
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        """The learning rate of epoch `epoch` (0 = before the first step), from the formula alone."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch: call once after each epoch, as torch's scheduler.step()."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        """The learning rate the optimizer uses now."""
        return self.optimizer.lr

    def state_dict(self) -> dict:
        """{"last_epoch": int, "base_lr": float}: all a resumed run needs (the rest is constructor args)."""
        return {"last_epoch": self.last_epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict) -> None:
        """Restore last_epoch and base_lr from state_dict()'s dict, refusing a corrupt one."""
        epoch, base_lr = state["last_epoch"], float(state["base_lr"])
        # A count from a file is bounded before any formula sees it (int(inf) or gamma ** 10**400 would raise).
        if type(epoch) is not int or not 0 <= epoch < 2**53 or not 0 < base_lr < float("inf"):
            raise ValueError(f"Scheduler state has last_epoch={epoch}, base_lr={base_lr}; the checkpoint is corrupt.")
        self.last_epoch, self.base_lr = epoch, base_lr
        self.optimizer.lr = self.lr_at(epoch)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.optimizer.lr:g})"


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: "Optimizer", step_size: int, gamma: float = 0.1):
        if int(step_size) < 1 or not gamma > 0:
            raise ValueError(f"StepLR needs step_size >= 1 and gamma > 0, got {step_size} and {gamma}.")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        """base_lr * gamma ** (epoch // step_size)."""
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2."""

    def __init__(self, optimizer: "Optimizer", T_max: int, eta_min: float = 0.0):  # noqa: N803 (torch's name)
        if int(T_max) < 1 or eta_min < 0:
            raise ValueError(f"CosineAnnealingLR needs T_max >= 1 and eta_min >= 0, got {T_max} and {eta_min}.")
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        """eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, eta_min past T_max."""
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LinearLR(LRScheduler):
    """Linear warm-up: lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters), *_factor."""

    def __init__(self, optimizer: "Optimizer", start_factor: float = 1 / 3, end_factor: float = 1.0,
                 total_iters: int = 5):
        if not (0 < start_factor <= 1 and 0 <= end_factor <= 1) or int(total_iters) < 1:
            raise ValueError("LinearLR needs 0 < start_factor <= 1, 0 <= end_factor <= 1 and total_iters >= 1.")
        self.start_factor, self.end_factor, self.total_iters = float(start_factor), float(end_factor), int(total_iters)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        """base_lr times a factor moving linearly from start_factor to end_factor over total_iters epochs."""
        frac = min(epoch, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class SequentialLR(LRScheduler):
    """schedulers[i] runs from milestones[i-1] on, counting its epochs from that milestone (torch's SequentialLR)."""

    def __init__(self, optimizer: "Optimizer", schedulers: list[LRScheduler], milestones: list[int]):
        if len(schedulers) != len(milestones) + 1 or list(milestones) != sorted(milestones):
            raise ValueError("SequentialLR needs one more scheduler than milestones, and sorted milestones.")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("SequentialLR's schedulers must all drive the optimizer it is given.")
        self.schedulers, self.milestones = list(schedulers), [int(m) for m in milestones]
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        """The lr of the scheduler whose milestone range holds `epoch`, counted from that milestone."""
        i = bisect.bisect_right(self.milestones, epoch)
        start = self.milestones[i - 1] if i > 0 else 0
        return self.schedulers[i].lr_at(epoch - start)

    def load_state_dict(self, state: dict) -> None:
        """Restore last_epoch and base_lr, for this scheduler and every scheduler it chains."""
        super().load_state_dict(state)
        for s in self.schedulers:
            s.base_lr = self.base_lr


def warmup(optimizer: "Optimizer", warmup_epochs: int, after: LRScheduler | None = None,
           start_factor: float | None = None) -> LRScheduler:
    """Linear warm-up over `warmup_epochs` to the optimizer's lr, then `after` (or a constant lr).

    The first epoch runs at lr / (warmup_epochs + 1) unless start_factor says otherwise, so no epoch is wasted at 0.
    """
    warm = LinearLR(optimizer, start_factor or 1 / (warmup_epochs + 1), 1.0, warmup_epochs)
    if after is None:
        return warm
    return SequentialLR(optimizer, [warm, after], milestones=[warmup_epochs])


SCHEDULERS = {"step": StepLR, "cosine": CosineAnnealingLR, "linear": LinearLR}


def build_scheduler(name: str | None, optimizer: "Optimizer", epochs: int, warmup_epochs: int = 0, *,
                    step_size: int | None = None, gamma: float = 0.1, eta_min: float = 0.0) -> LRScheduler | None:
    """The CLI's `--lr-schedule NAME --warmup-epochs K`: "constant" | "step" | "cosine", optionally after a warm-up.

    cosine anneals to eta_min over the epochs left after warm-up; step decays by gamma every step_size
    epochs (default: a third of the epochs left).
    """
    name = name or "constant"
    if name not in ("constant", *SCHEDULERS) or name == "linear":
        raise ValueError(f"Unknown lr schedule {name!r}; choose constant, step or cosine.")
    if warmup_epochs < 0 or (warmup_epochs and warmup_epochs >= epochs):
        raise ValueError(f"warmup_epochs={warmup_epochs} must be >= 0 and less than epochs={epochs}.")
    left = epochs - warmup_epochs
    after = None
    if name == "step":
        after = StepLR(optimizer, step_size or max(1, left // 3), gamma)
    elif name == "cosine":
        after = CosineAnnealingLR(optimizer, left, eta_min)
    if warmup_epochs:
        return warmup(optimizer, warmup_epochs, after)
    return after
