"""scikit-learn's per-epoch bookkeeping and stopping rule for its MLPs (tol, n_iter_no_change, early_stopping)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the hints only
    from numpynn.interop.sklearn_base import NumpynnMLP


def end_epoch(est: "NumpynnMLP", loss: float, validation: tuple | None, n_samples: int) -> tuple[bool, bool]:
    """Record an epoch on the estimator; returns (stop now, the validation score is the best so far).

    Without early_stopping: count epochs whose training loss did not fall below best_loss_ - tol; with it, the
    same on the validation score. More than n_iter_no_change such epochs in a row ask the solver to stop
    (adaptive SGD lowers its learning rate instead and the count starts over).
    """
    est.n_iter_ += 1
    est.t_ += n_samples
    est.loss_ = loss
    est.loss_curve_.append(loss)
    if est.verbose:
        print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
    improved = False
    if validation is not None:
        score = est._score_rows(*validation)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        est._no_improvement_count = est._no_improvement_count + 1 if score < est.best_validation_score_ + est.tol \
            else 0
        if score > est.best_validation_score_:
            est.best_validation_score_, improved = score, True
    else:
        if est.best_loss_ is None:  # a warm start that turned early_stopping off
            est.best_loss_ = float("inf")
        est._no_improvement_count = est._no_improvement_count + 1 if loss > est.best_loss_ - est.tol else 0
        est.best_loss_ = min(est.best_loss_, loss)
    est._optimizer.iteration_ends(est.t_)
    if est._no_improvement_count > est.n_iter_no_change:
        what = "Validation score" if validation is not None else "Training loss"
        message = f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive epochs."
        if est._optimizer.trigger_stopping(message, est.verbose):
            return True, improved
        est._no_improvement_count = 0
    return False, improved
