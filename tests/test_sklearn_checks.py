"""scikit-learn's common estimator checks (parametrize_with_checks) on numpynn's MLPClassifier and MLPRegressor.

All of them pass: expected_failed_checks is empty. The tags say what scikit-learn's own MLPs say: sparse X,
multilabel targets and sample_weight are supported, so the sparse, multilabel and sample-weight checks run too
(127 checks in all, 20 more than with those tags off). Seven are skipped by scikit-learn itself where an optional
package or method is missing: pandas (not a numpynn dependency), SCIPY_ARRAY_API, and decision_function.
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
