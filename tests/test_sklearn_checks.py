"""scikit-learn's common estimator checks (parametrize_with_checks) on numpynn's MLPClassifier and MLPRegressor.

All of them pass: expected_failed_checks is empty (the issue allows two per estimator, each explained). Four
checks are skipped by scikit-learn itself where an optional package is missing: the pandas half of
check_*_data_not_an_array (pandas is not a numpynn dependency) and check_array_api_input (SCIPY_ARRAY_API).
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from numpynn.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Small and quick: the checks fit each estimator again and again on tiny data. 40 epochs at lr 0.01 still clear
# check_classifiers_train's accuracy > 0.83 and check_regressors_train's R^2 > 0.5 (200 epochs are not needed).
ESTIMATORS = [MLPClassifier(hidden_layer_sizes=(16,), max_iter=40, learning_rate_init=0.01, random_state=0),
              MLPRegressor(hidden_layer_sizes=(16,), max_iter=40, learning_rate_init=0.01, random_state=0)]
EXPECTED_FAILED: dict[str, dict[str, str]] = {"MLPClassifier": {}, "MLPRegressor": {}}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED[type(est).__name__])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
