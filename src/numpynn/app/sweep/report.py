"""What a sweep shows and leaves: a line per finished trial, the trials table, best.toml and the figures."""

import csv
import io
import json
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from numpynn.app.sweep.space import SweepSpec
from numpynn.io.atomic import atomic_write_text

# Options that say where and how loudly a run is written, and the split the sweep scored on: not a recipe's.
NOT_IN_RECIPE = ("out", "name", "quiet", "plots", "preset", "val_split", "subset")
TOP_CURVES = 5


def state_of(t) -> str:
    """complete, pruned (epoch 2), diverged, failed, running or waiting."""
    state = t.state.name.lower()
    if state == "pruned":
        return "diverged" if "diverged" in t.user_attrs else f"pruned (epoch {t.last_step})"
    return {"fail": "failed"}.get(state, state)


def options_text(t) -> str:
    return " ".join(f"{k}={_short(v)}" for k, v in t.params.items())


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def best_complete(trials):
    done = [t for t in trials if t.state.name == "COMPLETE" and t.value is not None]
    return max(done, key=lambda t: (t.value, -t.number)) if done else None


class Progress:
    """One line per finished trial and a tqdm bar over the trials, for every worker of the study."""

    def __init__(self, total: int, trials, enabled: bool = True):
        self.seen = {t.number for t in trials if t.state.is_finished()}
        finished = sum(1 for t in trials if t.state.name in ("COMPLETE", "PRUNED"))
        self.best, self.enabled = best_complete(trials), enabled
        self.bar = tqdm(total=total, initial=min(finished, total), desc="Trials", unit="trial", dynamic_ncols=True,
                        disable=not enabled)

    def update(self, trials) -> None:
        new = sorted((t for t in trials if t.state.is_finished() and t.number not in self.seen),
                     key=lambda t: (t.datetime_complete is None, t.datetime_complete, t.number))
        for t in new:
            self.seen.add(t.number)
            if t.state.name == "COMPLETE" and (self.best is None or t.value > self.best.value):
                self.best = t
            value = "   -  " if t.value is None else f"{t.value:.4f}"
            best = "-" if self.best is None else f"{self.best.value:.4f} (trial {self.best.number})"
            if self.enabled:
                tqdm.write(f"trial {t.number:3d}  {state_of(t):<17} value {value}  best {best}  {options_text(t)}")
            if t.state.name in ("COMPLETE", "PRUNED"):
                self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def trial_rows(trials) -> list[dict]:
    """One row per trial: number, state, value, epochs run, seconds, the searched options, its run folder."""
    names = list(dict.fromkeys(k for t in trials for k in t.params))
    rows = []
    for t in sorted(trials, key=lambda t: t.number):
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and \
            t.datetime_start else None
        row = {"trial": t.number, "state": state_of(t), "value": t.value, "epochs": len(t.intermediate_values),
               "seconds": None if seconds is None else round(seconds, 1)}
        row.update({k: t.params.get(k) for k in names})
        row["run"] = t.user_attrs.get("run", "")
        rows.append(row)
    return rows


def table_text(rows: list[dict]) -> str:
    if not rows:
        return "(no trials yet)"
    cells = [[("" if v is None else f"{v:.4f}" if k == "value" else _short(v)) for k, v in r.items()] for r in rows]
    header = list(rows[0])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *cells)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(line, widths)).rstrip() for line in [header, *cells]]
    return "\n".join(lines)


def best_toml(spec: SweepSpec, best, finished: int, study: str) -> str:
    """A recipe for `numpynn train --config`: the sweep's fixed options and the best trial's searched ones."""
    config = spec.config_for(best.params)
    searched = {p.name for p in spec.params}
    lines = [f"# Best of {finished} finished trials of study {study!r}: trial {best.number}, validation accuracy "
             f"{best.value:.4f}",
             f"# on a held-out {spec.base.val_split:.0%} of the training rows. "
             f"Searched: {', '.join(sorted(searched))}.",
             "#   numpynn train --config best.toml                 trains it on the whole training set (test accuracy)",
             f"#   numpynn train --config best.toml --val-split {spec.base.val_split:g}"
             + (f" --subset {spec.base.subset}" if spec.base.subset else "") + "   repeats the trial's own run",
             ""]
    for key, value in config.to_dict().items():
        if key in NOT_IN_RECIPE or value is None:
            continue
        lines.append(f"{key} = {toml_value(value)}" + ("    # searched" if key in searched else ""))
    return "\n".join(lines) + "\n"


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a TOML basic string


def write_report(study, spec: SweepSpec, folder: Path, name: str, grid: bool = False,
                 quiet: bool = False) -> list[Path]:
    """trials.csv (and the table printed unless quiet), best.toml, history.png, importances.png, top_curves.png."""
    folder.mkdir(parents=True, exist_ok=True)
    trials = study.get_trials(deepcopy=False)
    rows = trial_rows(trials)
    if not quiet:
        print(table_text(rows))
    written = [_write_csv(folder / "trials.csv", rows)]
    best = best_complete(trials)
    finished = sum(1 for t in trials if t.state.name in ("COMPLETE", "PRUNED"))
    if best is None:
        print("No trial has completed yet, so there is no best.toml.")
        return written
    written.append(atomic_write_text(folder / "best.toml", best_toml(spec, best, finished, name)))
    print(f"Best: trial {best.number}, validation accuracy {best.value:.4f} ({options_text(best)}); "
          f"{sum(1 for t in trials if t.state.name == 'PRUNED')} of {finished} finished trials stopped early.")
    written += _figures(study, trials, folder, grid)
    return written


def _write_csv(path: Path, rows: list[dict]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]) if rows else ["trial"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    return atomic_write_text(path, out.getvalue())


def _figures(study, trials, folder: Path, grid: bool) -> list[Path]:
    import matplotlib

    from numpynn.app import figures as plots  # first: it picks a headless backend before pyplot loads

    # isort: split
    import matplotlib.pyplot as plt

    written = []
    with matplotlib.rc_context():  # Optuna's module turns on its ggplot style globally on import: keep it here
        from optuna.visualization import matplotlib as vis
        for filename, draw in (("history.png", vis.plot_optimization_history),
                               ("importances.png", vis.plot_param_importances)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ax = draw(study)
            except (ValueError, RuntimeError, ImportError, ZeroDivisionError) as exc:
                if filename != "importances.png":
                    print(f"Skipped {filename}: {exc}")
                    continue
                try:  # too few trials to weigh the options: show them side by side instead
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        ax, filename = vis.plot_parallel_coordinate(study), "parallel.png"
                except (ValueError, RuntimeError) as exc2:
                    print(f"Skipped importances.png and parallel.png: {exc}; {exc2}")
                    continue
            fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
            fig.set_size_inches(*plots.SIZES["compare"])
            written.append(plots.save_figure(fig, folder / filename))
            plt.close(fig)
    figure = top_curves(trials, folder, 10 if grid else TOP_CURVES, with_diverged=grid)
    if figure is not None:
        written.append(plots.save_figure(figure, folder / "top_curves.png"))
    return written


def top_curves(trials, folder: Path, top: int, with_diverged: bool = False):
    """The best `top` completed trials' curves (and, for a grid, every diverged trial's), or None without any."""
    from numpynn.app.sweep.curves import curve_rows, curves_figure
    ranked = sorted((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: -t.value)[:top]
    diverged = [t for t in trials if "diverged" in t.user_attrs] if with_diverged else []
    entries = [(f"trial {t.number}: {options_text(t)}  ({t.value:.4f})", curve_rows(t, folder), None) for t in ranked]
    entries += [(f"trial {t.number}: {options_text(t)}", curve_rows(t, folder), t.user_attrs.get("diverged_epoch", 1))
                for t in diverged]
    entries = [e for e in entries if e[1] or e[2] is not None]
    return curves_figure(entries) if entries else None
