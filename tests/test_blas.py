"""axpy through NumPy's OpenBLAS: the same values as NumPy's y += alpha * x, the fallback, and SGD on top of it."""

import os
import subprocess
import sys

import numpy as np
import pytest

import numpynn as nn
from numpynn.optim import blas


def _bundled_openblas() -> list:
    """The OpenBLAS libraries of NumPy's wheel (numpy.libs/); empty for conda, MKL, Accelerate or source builds."""
    import glob
    return glob.glob(os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs", "*openblas*.so*"))


def test_the_bundled_openblas_is_found_where_numpys_wheel_ships_one():
    # Without this the fast path could silently never run. NumPy's Linux wheels (as here and on CI) bundle it.
    if not _bundled_openblas() or os.environ.get("NUMPYNN_NO_BLAS"):
        assert not blas._BLAS and not blas.uses_blas(np.ones(10_000), np.ones(10_000))
        return
    assert set(blas._BLAS) == {(op, np.dtype(t)) for op in ("axpy", "scal") for t in (np.float32, np.float64)}
    assert blas.uses_blas(np.ones(10_000), np.ones(10_000))


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-7), (np.float64, 1e-15)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_axpy_matches_numpy(dtype, rtol, order):
    rng = np.random.default_rng(0)
    x = np.asarray(rng.standard_normal((300, 70)), dtype=dtype, order=order)
    y = np.asarray(rng.standard_normal((300, 70)), dtype=dtype, order=order)
    want = y - dtype(0.1) * x
    blas.axpy(-0.1, x, y)
    np.testing.assert_allclose(y, want, rtol=rtol, atol=rtol)  # fused: at most one rounding apart


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scal_matches_numpy_on_both_paths(dtype):
    x = np.random.default_rng(5).standard_normal((300, 70)).astype(dtype)
    for a in (x.copy(), x[:3].copy()):  # the BLAS path, and the small-array NumPy path
        want = a * dtype(0.9)
        blas.scal(0.9, a)
        np.testing.assert_array_equal(a, want)  # one multiplication: one rounding either way


def test_mismatched_layouts_and_small_arrays_take_numpys_exact_path():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 70)).astype(np.float32)
    y = np.asfortranarray(rng.standard_normal((300, 70)).astype(np.float32))  # other memory order than x
    small_x, small_y = x[:2].copy(), y[:2].copy()
    assert not blas.uses_blas(x, y) and not blas.uses_blas(small_x, small_y)
    for a, b in ((x, y), (small_x, small_y)):
        for scratch in (None, np.empty_like(b)):  # alpha * x into a fresh temporary, or into scratch
            want = b - np.float32(0.1) * a  # NumPy's two roundings, bit for bit
            blas.axpy(-0.1, a, b, scratch)
            np.testing.assert_array_equal(b, want)


def test_a_strided_view_is_never_handed_to_blas():
    x, y = np.ones((200, 100))[:, ::2], np.ones((200, 100))[:, ::2]
    assert not blas.uses_blas(x, y)
    blas.axpy(2.0, x, y)
    np.testing.assert_array_equal(y, 3.0)


def test_no_blas_switch_turns_the_fast_path_off():
    code = "from numpynn.optim import blas; print(len(blas._BLAS))"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "NUMPYNN_NO_BLAS": "1"},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"


# --- SGD on weights large enough for the BLAS path -----------------------------------------------------

def _big_model():
    return nn.Sequential(nn.Linear(96, 80, rng=0, dtype=np.float64))  # 7,680 weights: over blas.MIN_SIZE


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9, nesterov=True),
                                dict(lr=0.1, momentum=0.5, dampening=0.1, weight_decay=0.01)])
def test_sgd_on_the_blas_path_matches_the_rule_computed_by_hand(kw):
    model = _big_model()
    weight = model[0].params["weight"]
    assert blas.uses_blas(model[0].grads["weight"], weight) == bool(blas._BLAS)
    opt = nn.SGD(model, **kw)
    lr, mom, damp = kw["lr"], kw.get("momentum", 0), kw.get("dampening", 0)
    wd, nesterov = kw.get("weight_decay", 0), kw.get("nesterov", False)
    rng = np.random.default_rng(2)
    w, buf = weight.copy(), None
    for _ in range(5):
        g = rng.standard_normal(w.shape)
        model[0].grads["weight"][...] = g
        model[0].grads["bias"][...] = 0
        opt.step()
        d = g + wd * w
        if mom:
            buf = d.copy() if buf is None else mom * buf + (1 - damp) * d
            d = d + mom * buf if nesterov else buf
        w = w - lr * d
        np.testing.assert_allclose(weight, w, rtol=1e-12, atol=1e-15)  # atol: cancellation near 0


def test_restored_momentum_buffers_take_the_parameters_layout():
    # Linear's weight is an F-ordered view; a buffer read back from a file is C-ordered. Restored in the
    # parameter's layout, a resumed run takes the same (BLAS) path as the unbroken one, and matches it bit for bit.
    a, b = _big_model(), _big_model()
    opt_a, opt_b = nn.SGD(a, lr=0.1, momentum=0.9), nn.SGD(b, lr=0.1, momentum=0.9)
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((80, 96)) for _ in range(4)]
    for model in (a, b):
        model[0].grads["bias"][...] = 0
    for g in grads[:2]:
        for model, opt in ((a, opt_a), (b, opt_b)):
            model[0].grads["weight"][...] = g
            opt.step()
    saved = {k: np.array(v, order="C") for k, v in opt_b.state_dict().items()}  # as read back from a file
    opt_b = nn.SGD(b, lr=0.1, momentum=0.9)
    opt_b.load_state_dict(saved)
    assert opt_b.state["0.weight"]["momentum_buffer"].strides == b[0].params["weight"].strides
    for g in grads[2:]:
        for model, opt in ((a, opt_a), (b, opt_b)):
            model[0].grads["weight"][...] = g
            opt.step()
    np.testing.assert_array_equal(a[0].params["weight"], b[0].params["weight"])


def test_sgd_on_the_blas_path_matches_torch_when_installed():
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    model = _big_model()
    kw = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    opt = nn.SGD(model, **kw)
    p = torch.nn.Parameter(torch.from_numpy(model[0].params["weight"].copy()))
    topt = torch.optim.SGD([p], **kw)
    rng = np.random.default_rng(4)
    model[0].grads["bias"][...] = 0
    for _ in range(4):
        g = rng.standard_normal((80, 96))
        model[0].grads["weight"][...] = g
        opt.step()
        p.grad = torch.from_numpy(g.copy())
        topt.step()
        np.testing.assert_allclose(model[0].params["weight"], p.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_sgd_on_numpys_path_matches_the_blas_path(monkeypatch):
    # Where NumPy ships no OpenBLAS (MKL, Accelerate) the same rule runs through NumPy with scratch buffers.
    runs = []
    for table in (dict(blas._BLAS), {}):
        monkeypatch.setattr(blas, "_BLAS", table)
        model = _big_model()
        opt = nn.SGD(model, lr=0.1, momentum=0.9, weight_decay=0.01)
        rng = np.random.default_rng(6)
        model[0].grads["bias"][...] = 0
        for _ in range(3):
            model[0].grads["weight"][...] = rng.standard_normal((80, 96))
            opt.step()
        assert ("0.weight" in opt._scratch_buffers) == (not table)  # scratch only where NumPy does the sums
        runs.append(model[0].params["weight"].copy())
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15)
