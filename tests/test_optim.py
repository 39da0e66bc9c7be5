"""SGD follows torch.optim.SGD's update rule exactly: plain, momentum, Nesterov, weight decay."""

import numpy as np
import pytest

import numpynn as nn


def _model_with_grads(seed=0):
    model = nn.Sequential(nn.Linear(3, 2, rng=seed, dtype=np.float64))
    return model


def _run(opt_kwargs, steps=4):
    """Run `steps` SGD steps with a fixed sequence of gradients; return the weights after each."""
    model = _model_with_grads()
    opt = nn.SGD(model, **opt_kwargs)
    rng = np.random.default_rng(1)
    w0 = model[0].params["weight"].copy()
    out = []
    grads = []
    for _ in range(steps):
        g = rng.standard_normal(w0.shape)
        model[0].grads["weight"][...] = g
        model[0].grads["bias"][...] = 0
        grads.append(g)
        opt.step()
        out.append(model[0].params["weight"].copy())
    return w0, grads, out


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9, nesterov=True),
                                dict(lr=0.1, momentum=0.5, dampening=0.1, weight_decay=0.01),
                                dict(lr=0.1, weight_decay=0.1)])
def test_sgd_matches_the_rule_computed_by_hand(kw):
    w0, grads, got = _run(kw)
    lr, mom, damp = kw["lr"], kw.get("momentum", 0), kw.get("dampening", 0)
    wd, nesterov = kw.get("weight_decay", 0), kw.get("nesterov", False)
    w, buf = w0.copy(), None
    for g, w_got in zip(grads, got):
        d = g + wd * w
        if mom:
            buf = d.copy() if buf is None else mom * buf + (1 - damp) * d
            d = d + mom * buf if nesterov else buf
        w = w - lr * d
        np.testing.assert_allclose(w_got, w, rtol=1e-12)


def test_sgd_matches_torch_when_installed():
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    kw = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    w0, grads, got = _run(kw)
    p = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt = torch.optim.SGD([p], **kw)
    for g, w_got in zip(grads, got):
        p.grad = torch.from_numpy(g)
        opt.step()
        np.testing.assert_allclose(w_got, p.detach().numpy(), rtol=1e-12)


def test_sgd_updates_in_place_and_keeps_dtype():
    model = nn.mlp([4, 3, 2])
    w = model[0].params["weight"]
    opt = nn.SGD(model, lr=0.1, momentum=0.9)
    model[0].grads["weight"][...] = 1
    opt.step()
    assert model[0].params["weight"] is w and w.dtype == np.float32
    assert opt.state["0.weight"]["momentum_buffer"].dtype == np.float32


def test_state_dict_round_trip_continues_identically():
    _, grads, _ = _run(dict(lr=0.1, momentum=0.9))
    a, b = _model_with_grads(), _model_with_grads()
    oa, ob = nn.SGD(a, lr=0.1, momentum=0.9), nn.SGD(b, lr=0.1, momentum=0.9)
    for i, g in enumerate(grads):
        for m in (a, b):
            m[0].grads["weight"][...] = g
        oa.step()
        if i == 1:  # hand b's state to a fresh optimizer mid-way
            ob.step()
            state = ob.state_dict()
            ob = nn.SGD(b, lr=0.1, momentum=0.9)
            ob.load_state_dict(state)
        else:
            ob.step()
    np.testing.assert_array_equal(a[0].params["weight"], b[0].params["weight"])


@pytest.mark.parametrize("kw, message", [(dict(lr=0), "must be positive"), (dict(lr=-1), "must be positive"),
                                         (dict(lr=0.1, nesterov=True), "Nesterov")])
def test_bad_hyperparameters_are_clear_errors(kw, message):
    with pytest.raises(ValueError, match=message):
        nn.SGD(nn.mlp([2, 2]), **kw)


def test_zero_grad():
    model = nn.mlp([2, 2])
    model[0].grads["weight"][...] = 5
    nn.SGD(model, lr=0.1).zero_grad()
    assert not model[0].grads["weight"].any()


NON_FINITE = [float("inf"), float("-inf"), float("nan")]


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("cls, kw", [(nn.SGD, "lr"), (nn.SGD, "momentum"), (nn.SGD, "weight_decay"),
                                     (nn.SGD, "dampening"), (nn.Adam, "lr"), (nn.Adam, "weight_decay"),
                                     (nn.Adam, "eps"), (nn.AdamW, "weight_decay"), (nn.RMSprop, "momentum"),
                                     (nn.RMSprop, "weight_decay"), (nn.RMSprop, "alpha")])
def test_non_finite_hyperparameters_are_refused_up_front(cls, kw, value):
    # inf passed the `>= 0` checks (and NaN momentum / weight decay slipped past `< 0`), then poisoned the weights.
    args = {"lr": 0.1, kw: value}
    with pytest.raises(ValueError, match=f"{kw} must be a finite number"):
        cls(nn.mlp([2, 2]), **args)


@pytest.mark.parametrize("flags", [["--lr", "inf"], ["--momentum", "inf"], ["--weight-decay", "nan"],
                                   ["--dropout", "nan"], ["--val-split", "nan"]])
def test_the_cli_refuses_non_finite_values_before_reading_data(flags, tmp_path, capsys):
    from numpynn.app import main
    assert main(["train", *flags, "--dataset", str(tmp_path / "none.npz"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "must be a finite number" in err and "does not exist" not in err


def test_a_toml_file_with_infinite_momentum_is_refused(tmp_path, capsys):
    from numpynn.app import main
    (tmp_path / "r.toml").write_text("[optim]\nmomentum = inf\nweight_decay = nan\n", encoding="utf-8")
    assert main(["train", "--config", str(tmp_path / "r.toml"), "--out", str(tmp_path)]) == 2
    assert "must be a finite number" in capsys.readouterr().err
