"""LR schedules: torch's formulas epoch by epoch, composition, state_dict round trips, and fit's lr column."""

import math

import numpy as np
import pytest

import numpynn as nn
from numpynn.optim.schedules import build_scheduler, warmup


def _opt(lr=0.1):
    return nn.SGD(nn.Sequential(nn.Linear(2, 2, rng=0)), lr=lr)


def _lrs(sched, epochs):
    """lr used in each epoch: read before step(), as fit does."""
    out = []
    for _ in range(epochs):
        out.append(sched.optimizer.lr)
        sched.step()
    return out


def test_step_lr():
    assert _lrs(nn.StepLR(_opt(1.0), step_size=2, gamma=0.5), 6) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_annealing_formula():
    got = _lrs(nn.CosineAnnealingLR(_opt(0.1), T_max=4, eta_min=0.01), 5)
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[-1] == pytest.approx(0.01)


def test_linear_warmup_then_cosine():
    opt = _opt(0.1)
    sched = warmup(opt, 3, nn.CosineAnnealingLR(opt, T_max=5))
    got = _lrs(sched, 8)
    np.testing.assert_allclose(got[:4], [0.025, 0.05, 0.075, 0.1], rtol=1e-12)  # warm-up starts at lr / (k + 1)
    np.testing.assert_allclose(got[3:], [0.1 * (1 + math.cos(math.pi * e / 5)) / 2 for e in range(5)], rtol=1e-12)


@pytest.mark.parametrize("name", ["step", "cosine", "warmup_cosine", "linear"])
def test_matches_torch_lr_scheduler(name):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    opt = _opt(0.1)
    S = torch.optim.lr_scheduler
    if name == "step":
        ts, ours = S.StepLR(topt, 3, 0.5), nn.StepLR(opt, 3, 0.5)
    elif name == "cosine":
        ts, ours = S.CosineAnnealingLR(topt, 10, 0.001), nn.CosineAnnealingLR(opt, 10, 0.001)
    elif name == "linear":
        ts, ours = S.LinearLR(topt, 0.2, 1.0, 4), nn.LinearLR(opt, 0.2, 1.0, 4)
    else:
        ts = S.SequentialLR(topt, [S.LinearLR(topt, 0.25, 1.0, 3), S.CosineAnnealingLR(topt, 9)], milestones=[3])
        ours = nn.SequentialLR(opt, [nn.LinearLR(opt, 0.25, 1.0, 3), nn.CosineAnnealingLR(opt, 9)], milestones=[3])
    for _ in range(12):
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-9, abs=1e-15)
        topt.step()  # no grads: changes nothing, but torch expects it before the scheduler's step
        ts.step()
        ours.step()


def test_state_dict_round_trip_resumes_the_schedule():
    opt = _opt(0.2)
    sched = build_scheduler("cosine", opt, epochs=10, warmup_epochs=2)
    full = _lrs(sched, 10)
    opt2 = _opt(0.2)
    first = build_scheduler("cosine", opt2, epochs=10, warmup_epochs=2)
    _lrs(first, 4)
    state = first.state_dict()
    opt3 = _opt(0.2)
    resumed = build_scheduler("cosine", opt3, epochs=10, warmup_epochs=2)
    resumed.load_state_dict(state)
    assert _lrs(resumed, 6) == pytest.approx(full[4:], rel=1e-12)


def test_build_scheduler_names_and_errors():
    assert build_scheduler("constant", _opt(), epochs=5) is None
    assert isinstance(build_scheduler("step", _opt(), epochs=9), nn.StepLR)
    assert isinstance(build_scheduler("constant", _opt(), epochs=9, warmup_epochs=2), nn.LinearLR)
    with pytest.raises(ValueError, match="Unknown lr schedule"):
        build_scheduler("exp", _opt(), epochs=5)
    with pytest.raises(ValueError, match="warmup_epochs"):
        build_scheduler("cosine", _opt(), epochs=5, warmup_epochs=5)
    with pytest.raises(ValueError):
        nn.StepLR(_opt(), step_size=0)


def test_fit_records_the_lr_of_each_epoch():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 3)).astype(np.float32), rng.integers(0, 2, 64)
    model = nn.mlp([3, 4, 2], seed=0)
    opt = nn.SGD(model, lr=0.1)
    hist = nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=4, batch_size=32, verbose=0,
                  scheduler=nn.StepLR(opt, step_size=1, gamma=0.5))
    assert hist["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
