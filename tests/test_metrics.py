"""Metrics agree with scikit-learn's definitions."""

import numpy as np
import pytest

import numpynn as nn


def test_accuracy_and_confusion_matrix():
    y_true = np.array([0, 1, 2, 2, 1, 0, 2])
    y_pred = np.array([0, 2, 2, 2, 1, 1, 0])
    assert nn.accuracy(y_true, y_pred) == pytest.approx(4 / 7)
    cm = nn.confusion_matrix(y_true, y_pred, num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 1], [1, 0, 2]])
    assert nn.accuracy(np.eye(3)[y_true], np.eye(3)[y_pred]) == pytest.approx(4 / 7)


def test_precision_recall_f1_match_sklearn():
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is a test extra")
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    p, r, f = nn.precision_recall_f1(nn.confusion_matrix(y_true, y_pred))
    sp, sr, sf, _ = metrics.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    np.testing.assert_allclose([p, r, f], [sp, sr, sf])
    np.testing.assert_array_equal(nn.confusion_matrix(y_true, y_pred), metrics.confusion_matrix(y_true, y_pred))


def test_classification_report_lists_every_class():
    cm = nn.confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), num_classes=3)
    report = nn.classification_report(cm)
    assert "precision" in report and "accuracy" in report
    assert report.count("\n") == 6 and "0.6667" in report  # header + 3 classes + blank + accuracy + macro


def test_mismatched_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="equal length"):
        nn.accuracy(np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        nn.confusion_matrix(np.array([0, 3]), np.array([0, 1]), num_classes=2)
