"""`numpynn sweep`'s service: the search space, the Optuna study, the workers, the report."""
