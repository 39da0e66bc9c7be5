"""scikit-learn's stopping rule for its MLPs (tol, n_iter_no_change, early_stopping), as a numpynn fit() Callback."""

import numpy as np

from numpynn.training.fit import Callback


class StoppingRule(Callback):
    """scikit-learn's per-epoch bookkeeping and stopping rule, run by numpynn's fit() after every epoch.

    Without early_stopping: stop when the training loss has not fallen below best_loss_ - tol for more than
    n_iter_no_change epochs. With it: the same on the validation score, and keep the best-scoring weights.
    """

    def __init__(self, est, validation, n_samples: int):
        self.est, self.validation, self.n_samples = est, validation, n_samples
        self.stopped, self.best_state = False, None

    def on_epoch_end(self, epoch, record, model, optimizer):
        est = self.est
        loss = record["train_loss"] + model.penalty_sum / self.n_samples  # scikit-learn's loss includes alpha's
        model.penalty_sum = 0.0
        est.n_iter_ += 1
        est.t_ += self.n_samples
        est.loss_curve_.append(loss)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation is not None:
            score = est._score_network(*self.validation)
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}")
            est._no_improvement_count = 0 if score >= est.best_validation_score_ + est.tol else \
                est._no_improvement_count + 1
            if score > est.best_validation_score_:
                est.best_validation_score_, self.best_state = score, est.model_.state_dict()
        else:  # (best_loss_ is None after a warm start that turned early_stopping off)
            best = np.inf if est.best_loss_ is None else est.best_loss_
            est._no_improvement_count = 0 if loss <= best - est.tol else est._no_improvement_count + 1
            est.best_loss_ = min(best, loss)
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation is not None else "Training loss"
            if est.verbose:
                print(f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive "
                      "epochs. Stopping.")
            self.stopped = self.stop_training = True
