"""Adam, AdamW and RMSprop follow torch.optim's update rules and defaults: by hand, and against torch itself."""

import math

import numpy as np
import pytest

import numpynn as nn


def _steps(cls, kw, steps=5, seed=0, dtype=np.float64):
    """Apply `steps` optimizer steps with a fixed sequence of gradients; return (w0, b0, grads, params after each)."""
    model = nn.Sequential(nn.Linear(4, 3, rng=seed, dtype=dtype))
    opt = cls(model, **kw)
    layer = model[0]
    w0, b0 = layer.params["weight"].copy(), layer.params["bias"].copy()
    rng = np.random.default_rng(seed + 1)
    grads, after = [], []
    for _ in range(steps):
        gw, gb = rng.standard_normal(w0.shape), rng.standard_normal(b0.shape)
        layer.grads["weight"][...] = gw
        layer.grads["bias"][...] = gb
        opt.step()
        grads.append((gw, gb))
        after.append((layer.params["weight"].copy(), layer.params["bias"].copy()))
    return w0, b0, grads, after, opt


def _adam_by_hand(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    m, v, vmax, out = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - betas[0] ** t)
        v_hat = (vmax if amsgrad else v) / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def _rmsprop_by_hand(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    sq, gavg, buf, out = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for g in grads:
        g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        gavg = alpha * gavg + (1 - alpha) * g
        avg = np.sqrt(sq - gavg * gavg if centered else sq) + eps
        if momentum:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
        out.append(p)
    return out


ADAM_CASES = [{}, dict(lr=0.01, betas=(0.8, 0.99)), dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, amsgrad=True)]
RMS_CASES = [{}, dict(lr=0.01, alpha=0.9), dict(momentum=0.9), dict(centered=True, weight_decay=0.05),
             dict(momentum=0.5, centered=True)]


@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
def test_adam_matches_the_rule_computed_by_hand(kw):
    w0, b0, grads, after, _ = _steps(nn.Adam, kw)
    for (w, b), ew, eb in zip(after, _adam_by_hand(w0, [g[0] for g in grads], **kw),
                              _adam_by_hand(b0, [g[1] for g in grads], **kw)):
        np.testing.assert_allclose(w, ew, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b, eb, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kw", [{}, dict(lr=0.01, weight_decay=0.5), dict(lr=0.01, weight_decay=0.1, amsgrad=True)],
                         ids=str)
def test_adamw_decays_weights_outside_the_moments(kw):
    w0, _, grads, after, _ = _steps(nn.AdamW, kw)
    expected = _adam_by_hand(w0, [g[0] for g in grads], decoupled=True, **{"weight_decay": 1e-2, **kw})
    for (w, _), ew in zip(after, expected):
        np.testing.assert_allclose(w, ew, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kw", RMS_CASES, ids=str)
def test_rmsprop_matches_the_rule_computed_by_hand(kw):
    w0, _, grads, after, _ = _steps(nn.RMSprop, kw)
    for (w, _), ew in zip(after, _rmsprop_by_hand(w0, [g[0] for g in grads], **kw)):
        np.testing.assert_allclose(w, ew, rtol=1e-12, atol=1e-15)


def test_first_adam_step_moves_each_weight_by_lr():
    # A known property of the rule: after bias correction the first step is lr * sign(g) (up to eps).
    w0, _, grads, after, _ = _steps(nn.Adam, dict(lr=0.01), steps=1)
    np.testing.assert_allclose(w0 - after[0][0], 0.01 * np.sign(grads[0][0]), rtol=1e-6)


def test_defaults_are_torch_defaults():
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    adam, adamw, rms = nn.Adam(model), nn.AdamW(model), nn.RMSprop(model)
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps, adam.weight_decay, adam.amsgrad) == \
        (1e-3, 0.9, 0.999, 1e-8, 0.0, False)
    assert (adamw.lr, adamw.weight_decay) == (1e-3, 1e-2)
    assert (rms.lr, rms.alpha, rms.eps, rms.weight_decay, rms.momentum, rms.centered) == \
        (1e-2, 0.99, 1e-8, 0.0, 0.0, False)
    assert {"adam", "adamw", "rmsprop", "sgd"} <= set(nn.OPTIMIZERS)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, weight_decay=0.1)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("AdamW", dict(lr=0.01)), ("RMSprop", dict(momentum=0.9, centered=True)),
                                     ("RMSprop", dict(weight_decay=0.01))], ids=str)
def test_matches_torch_optim(name, kw):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    w0, b0, grads, after, _ = _steps(getattr(nn, name), kw, steps=6)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    topt = getattr(torch.optim, name)([tw, tb], **kw)
    for (gw, gb), (w, b) in zip(grads, after):
        tw.grad, tb.grad = torch.tensor(gw), torch.tensor(gb)
        topt.step()
        np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(b, tb.detach().numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("cls", [nn.Adam, nn.AdamW, nn.RMSprop])
def test_float32_stays_float32(cls):
    _, _, _, after, opt = _steps(cls, dict(momentum=0.9) if cls is nn.RMSprop else {}, dtype=np.float32)
    assert after[-1][0].dtype == np.float32
    assert all(v.dtype == np.float32 for bufs in opt.state.values() for v in bufs.values())


@pytest.mark.parametrize("cls,kw", [(nn.Adam, dict(amsgrad=True)), (nn.AdamW, {}),
                                    (nn.RMSprop, dict(momentum=0.9, centered=True))], ids=str)
def test_state_dict_resume_continues_exactly(cls, kw):
    """Stopping after 3 steps and resuming from state_dict gives the same weights as 6 uninterrupted steps."""
    _, _, grads, after, _ = _steps(cls, kw, steps=6)
    model = nn.Sequential(nn.Linear(4, 3, rng=0, dtype=np.float64))
    opt = cls(model, **kw)
    layer = model[0]
    for gw, gb in grads[:3]:
        layer.grads["weight"][...], layer.grads["bias"][...] = gw, gb
        opt.step()
    saved_model, saved_opt = model.state_dict(), opt.state_dict()
    model2 = nn.Sequential(nn.Linear(4, 3, rng=99, dtype=np.float64))
    model2.load_state_dict(saved_model)
    opt2 = cls(model2, **kw)
    opt2.load_state_dict(saved_opt)
    assert opt2.step_count == 3
    for gw, gb in grads[3:]:
        model2[0].grads["weight"][...], model2[0].grads["bias"][...] = gw, gb
        opt2.step()
    np.testing.assert_array_equal(model2[0].params["weight"], after[-1][0])


@pytest.mark.parametrize("make", [lambda m: nn.Adam(m, betas=(1.0, 0.999)), lambda m: nn.Adam(m, lr=0),
                                  lambda m: nn.AdamW(m, eps=-1), lambda m: nn.RMSprop(m, alpha=1.5)])
def test_bad_hyperparameters_are_refused(make):
    with pytest.raises(ValueError):
        make(nn.Sequential(nn.Linear(2, 2, rng=0)))


def test_adam_trains_a_small_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = nn.mlp([5, 16, 2], seed=0)
    hist = nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model, lr=0.01), x, y, epochs=15, batch_size=32, verbose=0)
    assert hist["train_loss"][-1] < 0.3 * hist["train_loss"][0] and math.isfinite(hist["train_loss"][-1])
