"""scikit-learn estimators over numpynn networks: `from numpynn.sklearn import MLPClassifier, MLPRegressor`.

They take scikit-learn's MLPClassifier / MLPRegressor parameters, so swapping the import keeps the rest of a
scikit-learn script (Pipeline, GridSearchCV, cross_val_score, clone) working. Needs the extra numpynn[sklearn].
"""

from numpynn.interop.extras import require

require("sklearn", "sklearn", "numpynn.sklearn")

from numpynn.interop.sklearn_classifier import MLPClassifier  # noqa: E402  (after the check that names the extra)
from numpynn.interop.sklearn_regressor import MLPRegressor  # noqa: E402

__all__ = ["MLPClassifier", "MLPRegressor"]
