"""`numpynn sweep`: a hyperparameter search on Optuna in which every trial is a `numpynn train` run folder.

The options are here; running the sweep (study, workers, report) is numpynn.app.sweep.runner.
"""

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from numpynn.app.commands.train import add_train_options
from numpynn.app.runs.train_config import TrainConfig
from numpynn.app.sweep.runner import DEFAULT_TRIALS

SWEEP_SKIPS = ("out", "name", "quiet", "plots")  # the sweep names and quiets its trial runs itself

EXAMPLES = """examples:
  numpynn sweep --config sweep --jobs 2            the bundled recipes/sweep.toml: 20 trials on 10,000 rows
  numpynn sweep --grid lr=0.1,1.0 --preset article --epochs 5        the article's exercise 4, curves on one figure
  numpynn sweep --grid hidden=256/512,256 --grid dropout=0,0.2 --subset 5000 --val-split 0.2 --epochs 3
  numpynn sweep --config sweep.toml --storage postgresql://user:pw@db-host/optuna --study mnist --jobs 4
                                   the same command on every machine: all of them work on one study
  numpynn sweep --report sweeps/sweep --retrain-best       the table, best.toml, figures; then the best on all rows
"""


def add_parser(sub) -> None:
    help = "search train options with Optuna (resumable; several processes or machines on one study)"
    p = sub.add_parser("sweep", help=help, description=help, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="FILE", help="sweep TOML: fixed train options, [search] ranges and lists, "
                   "[sweep] sampler (tpe, random, grid) and pruner (median, hyperband, none)")
    p.add_argument("--grid", metavar="KEY=V1,V2", action="append", default=[],
                   help="a plain grid instead of [search], repeatable (hidden choices: 256/512,256)")
    p.add_argument("--trials", type=int, metavar="N", help=f"finished trials the study should reach (default: "
                   f"[sweep] trials, the grid's size, or {DEFAULT_TRIALS})")
    p.add_argument("--jobs", type=int, default=1, metavar="K", help="worker processes on this machine (default: 1)")
    p.add_argument("--storage", metavar="URL", help="postgresql://... or mysql://... for many machines, or a journal "
                   "file path (default: DIR/study.journal)")
    p.add_argument("--study", metavar="NAME", help="study name (default: the sweep folder's name)")
    p.add_argument("--out", metavar="DIR", help="sweep folder (default: sweeps/<config name> or sweeps/grid-<keys>)")
    p.add_argument("--report", metavar="DIR", help="only write the report of the sweep in DIR (table, best.toml, "
                   "figures), e.g. while its workers run")
    p.add_argument("--retrain-best", action="store_true", help="then train the best options on the whole training "
                   "set and report the test accuracy, once")
    p.add_argument("--quiet", action="store_true", help="no progress bar, trial lines or table: print only the best "
                   "trial and the paths written")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # a --jobs worker; its plan on stdin
    add_train_options(p, skip=SWEEP_SKIPS)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from numpynn.app.sweep.study import StudyStorageLost, import_optuna  # Optuna: only when a sweep runs
    import_optuna()  # fails in one sentence, before anything is written, when the extra is missing
    try:
        return _run(args)
    except StudyStorageLost as exc:  # the environment failed, not the input: exit 1
        print(f"numpynn: error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from numpynn.app.sweep import runner
    from numpynn.app.sweep.study import storage_errors
    storage = args.storage or ""
    if args.worker:
        plan = json.loads(sys.stdin.read())
        with storage_errors(plan["storage"]):
            return runner.work(plan)
    with storage_errors(storage):
        if args.report is not None:
            return runner.report_only(Path(args.report), args.storage, args.retrain_best, quiet=args.quiet)
        flags = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
        return runner.sweep(flags, config=args.config, grid=args.grid, trials=args.trials, jobs=args.jobs,
                            storage=args.storage, study_name=args.study, out=args.out, retrain_best=args.retrain_best,
                            quiet=args.quiet)
