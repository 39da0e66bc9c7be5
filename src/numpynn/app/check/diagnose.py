"""One result against the expected one: equal within tolerance, or the one line that says how it differs.

The line names a common mistake where the numbers show one (a transposed or negated result, a missing / n, a
bias gradient without keepdims or summed over the wrong axis, NaN from an overflow or log(0)), and otherwise
the first differing entry.
"""

import numpy as np

RTOL, ATOL = 1e-6, 1e-9
NAN_HINTS = {
    "softmax": "softmax overflows on large logits (NaN): subtract each row's max before np.exp",
    "forward_mlp": "the softmax overflows on large logits (NaN): subtract each row's max before np.exp",
    "forward_mlp_3layer": "the softmax overflows on large logits (NaN): subtract each row's max before np.exp",
    "cross_entropy": "cross-entropy without clipping: log(0) is -inf; add epsilon (1e-15) inside the log",
    "binary_cross_entropy": "cross-entropy without clipping: log(0) is -inf; add epsilon (1e-15) inside the logs",
    "normalize": "a constant column (std 0) gives NaN: divide only where the std is non-zero",
}


def same(got: object, want: object) -> bool:
    """Whether got equals want: the same structure (tuple, list, dict), shapes and values within tolerance."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    if isinstance(want, (tuple, list)) and not _numbers(want):
        return isinstance(got, (tuple, list)) and len(got) == len(want) and all(map(same, got, want))
    if _other_float(got, want):
        return False
    try:
        g, w = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return False
    return g.shape == w.shape and bool(np.allclose(g, w, rtol=RTOL, atol=ATOL))


def difference(name: str, got: object, want: object, label: str, n: int, names: tuple = ()) -> str:
    """One line on how `got` (the result called `label`) differs from `want`; n is the batch size."""
    if got is None:
        return "returns None: add a return statement"
    if isinstance(want, dict):
        if not isinstance(got, dict) or got.keys() != want.keys():
            return f"returns {_kind(got)}, expected a dict with the keys {sorted(want)}"
        return next(difference(name, got[k], want[k], f"{label}[{k!r}]", n) for k in want if not same(got[k], want[k]))
    if isinstance(want, (tuple, list)) and not _numbers(want):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            what = f" ({', '.join(names)})" if names else ""
            return f"returns {_kind(got)}, expected {len(want)} values{what}"
        labels = names or [f"{label}[{i}]" for i in range(len(want))]
        return next(difference(name, g, w, lab, n) for g, w, lab in zip(got, want, labels) if not same(g, w))
    return _array(name, got, want, label, n)


def _other_float(got, want) -> bool:
    """Whether both are floating-point arrays of different precision (float32 where the series has float64)."""
    kinds = getattr(got, "dtype", None), getattr(want, "dtype", None)
    if kinds[0] is None or kinds[1] is None:  # not `None in kinds`: np.dtype == None compares with float64
        return False
    return kinds[0].kind == kinds[1].kind == "f" and kinds[0] != kinds[1]


def _numbers(values) -> bool:
    return all(isinstance(v, (int, float, np.number)) for v in values)


def _kind(value) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _array(name, got, want, label, n) -> str:
    try:
        g, w = np.asarray(got), np.asarray(want)
        g.astype(float)
    except (TypeError, ValueError):
        return f"{label} is {_kind(got)}, expected numbers"
    if g.shape != w.shape:
        return _shape(g.shape, w.shape, label, n)
    if w.dtype.kind == "f" and g.dtype.kind == "f" and g.dtype != w.dtype:
        return f"{label} is {g.dtype}; the series' functions return {w.dtype}"
    g, w = g.astype(float), w.astype(float)
    if not np.isfinite(g[np.isfinite(w)]).all():
        return NAN_HINTS.get(name, f"{label} has NaN or inf where the series' values are finite")
    return _values(g, w, label, n)


def _shape(got: tuple, want: tuple, label: str, n: int) -> str:
    says = f"{label} has shape {got}, expected {want}"
    if label.startswith("grad_b") and got == want[-1:]:
        return f"bias gradient without keepdims: {says}; use keepdims=True"
    if label.startswith("grad_b") and len(got) == 2 and got[0] == n != 1:
        return f"bias gradient summed over the wrong axis: {says}; sum over axis=0, the samples"
    if got == want[::-1]:
        fix = ": the weight gradient is (input of the layer).T @ delta" if label.startswith("grad_W") else ""
        return f"transposed{' gradient' if label.startswith('grad') else ''}: {says}{fix}"
    if not want:
        return f"{label} should be one number, not an array of shape {got}"
    return says


def _values(g: np.ndarray, w: np.ndarray, label: str, n: int) -> str:
    if np.any(w != 0) and np.allclose(g, -w, rtol=RTOL, atol=ATOL):
        return f"sign error: {label} is the negative of the expected values"
    ratio = _ratio(g, w)
    if ratio is not None and n > 1 and np.isclose(ratio, n):
        return f"missing / n: {label} is n = {n} times too large; divide by the number of samples"
    if ratio is not None and n > 1 and np.isclose(ratio, 1 / n):
        return f"{label} is divided by n = {n} once too often"
    if ratio is not None and not np.isclose(ratio, 1):
        return f"{label} is {ratio:.4g} times the expected values"
    if g.ndim == 2 and g.shape[0] == g.shape[1] > 1 and np.allclose(g, w.T, rtol=RTOL, atol=ATOL):
        return f"transposed: {label} is the transpose of the expected values"
    index = tuple(int(i) for i in np.argwhere(~np.isclose(g, w, rtol=RTOL, atol=ATOL))[0])
    where = f"{label}[{', '.join(map(str, index))}]" if index else label
    return f"first difference at {where}: got {g[index]:.6g}, expected {w[index]:.6g}"


def _ratio(g: np.ndarray, w: np.ndarray) -> float | None:
    """The constant c with g == c * w, where there is one (w has non-zero entries and is 0 where g is)."""
    nonzero = np.abs(w) > 1e-12
    if not nonzero.any() or np.any(np.abs(g[~nonzero]) > 1e-9):
        return None
    ratios = g[nonzero] / w[nonzero]
    return float(ratios.flat[0]) if np.allclose(ratios, ratios.flat[0], rtol=1e-6) else None
