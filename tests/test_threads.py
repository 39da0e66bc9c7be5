"""numpynn.threads and batch splitting: the same numbers on 1 and 2 threads, one default, one override."""

import numpy as np
import pytest

import numpynn as nn
from numpynn import threads
from numpynn.nn import batch_split
from numpynn.optim import blas


def _cnn(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, rng=rng), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2, stride=1, padding=1),
        nn.Conv2d(8, 6, 2, stride=2, rng=rng), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6, 10, rng=rng),
        nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 5, rng=rng))


def _data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 10, 10)).astype(np.float32), rng.integers(0, 5, n)


def _step(model, x, y):
    """Loss, input-side gradient and every parameter gradient of one training step."""
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(model.forward(x), y)
    model.backward(loss_fn.backward())
    return loss, [g.copy() for layer in model.layers for g in layer.grads.values()]


def test_two_threads_give_one_threads_numbers_to_float32_rounding(monkeypatch):
    monkeypatch.setattr(batch_split, "MIN_ROWS", 4)  # split even this tiny batch
    x, y = _data()
    one, two = _cnn(), _cnn()
    with threads.limit(1):
        loss1, grads1 = _step(one, x, y)
    calls = []
    real_run = batch_split.run
    monkeypatch.setattr(batch_split, "run", lambda fn, parts: calls.append(len(parts)) or real_run(fn, parts))
    with threads.limit(2, split=True):
        loss2, grads2 = _step(two, x, y)
        pred2 = two.predict(x)  # predict's own limit() keeps the open one, splitting included
    assert max(calls) == 2  # the batch really was split over two threads
    assert abs(loss1 - loss2) < 1e-6
    for a, b in zip(grads1, grads2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    with threads.limit(1):
        np.testing.assert_array_equal(one.predict(x), pred2)


def test_two_threads_train_the_same_model_as_one(monkeypatch):
    monkeypatch.setattr(batch_split, "MIN_ROWS", 4)
    x, y = _data(64)
    models = []
    for n in (1, 2):
        model = _cnn()
        with threads.limit(n, split=True):
            h = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.05, momentum=0.9), x, y, epochs=2,
                       batch_size=32, seed=0, verbose=0)
        models.append((h["train_loss"], model.parameters()))
    np.testing.assert_allclose(models[0][0], models[1][0], rtol=1e-5)
    for a, b in zip(models[0][1], models[1][1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_default_is_one_thread_and_the_environment_or_argument_changes_it(monkeypatch):
    monkeypatch.delenv(threads.ENV_VAR, raising=False)
    assert threads.resolve() == threads.DEFAULT_THREADS == 1
    monkeypatch.setenv(threads.ENV_VAR, "2")
    assert threads.resolve() == 2 and threads.resolve(3) == 3  # the argument wins over the environment
    with threads.limit(1):
        assert threads.resolve() == 1  # an open limit() wins over the environment: fit inside `train --threads 1`
    for bad in ("two", "0"):
        monkeypatch.setenv(threads.ENV_VAR, bad)
        with pytest.raises(ValueError, match=threads.ENV_VAR):
            threads.resolve()
    with pytest.raises(ValueError, match="at least 1"):
        threads.resolve(0)


def test_limit_sets_blas_and_workers_and_restores_them():
    if blas.get_threads() is None:
        pytest.skip("NumPy does not use its bundled OpenBLAS here")  # threadpoolctl path: covered by test_cli_runs
    before_blas, before_workers = blas.get_threads(), batch_split.workers()
    with threads.limit(2, split=True):
        assert (blas.get_threads(), batch_split.workers()) == (2, 2)
        with threads.limit(1):
            assert (blas.get_threads(), batch_split.workers()) == (1, 1)
        with threads.limit():  # an inner limit() without arguments keeps the outer one whole
            assert (blas.get_threads(), batch_split.workers()) == (2, 2)
        assert (blas.get_threads(), batch_split.workers()) == (2, 2)
    assert (blas.get_threads(), batch_split.workers()) == (before_blas, before_workers)


def test_batch_splitting_is_opt_in(monkeypatch):
    """BLAS threads alone measured faster than batch splitting (threads.py): N threads split nothing unless asked,
    by split=True or NUMPYNN_BATCH_SPLIT=1."""
    monkeypatch.delenv(threads.SPLIT_ENV_VAR, raising=False)
    with threads.limit(2):
        assert batch_split.workers() == 1
    with threads.limit(2, split=True):
        assert batch_split.workers() == 2
    monkeypatch.setenv(threads.SPLIT_ENV_VAR, "1")
    with threads.limit(2):
        assert batch_split.workers() == 2
        with threads.limit(2, split=False):
            assert batch_split.workers() == 1


def test_split_runs_every_piece_once_and_inline_with_one_worker():
    with threads.limit(1):
        assert batch_split.split_rows(100, lambda s: (s.start, s.stop)) == [(0, 100)]
    with threads.limit(2, split=True):
        assert batch_split.split_rows(100, lambda s: (s.start, s.stop)) == [(0, 50), (50, 100)]
        assert batch_split.split_rows(20, lambda s: (s.start, s.stop)) == [(0, 20)]  # too small to split


def test_a_forked_child_starts_its_own_split_threads():
    import multiprocessing
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    with threads.limit(2, split=True):
        batch_split.split_rows(100, lambda s: s.stop)  # the parent's pool exists now
        with multiprocessing.get_context("fork").Pool(1) as pool:
            # without the at-fork reset the child would wait forever on the parent's (absent) threads
            assert pool.apply_async(batch_split.split_rows, (100, _stop)).get(timeout=60) == [50, 100]


def _stop(s):
    return s.stop
