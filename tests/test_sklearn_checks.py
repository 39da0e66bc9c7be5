"""scikit-learn's common estimator checks (parametrize_with_checks) on numpynn's MLPClassifier and MLPRegressor."""

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from numpynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# Small networks: the checks fit each estimator a few hundred times on tiny data.
ESTIMATORS = [MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0),
              MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, random_state=0)]
EXPECTED_FAILED = {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
