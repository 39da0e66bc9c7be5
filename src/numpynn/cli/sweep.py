"""`numpynn sweep`: a hyperparameter search on Optuna in which every trial is a `numpynn train` run folder.

The sweep folder holds the study (study.journal, unless --storage names a database), sweep.json (what is
searched, so `--report` and a rerun know), one run folder per trial (trial-0000, ...), and the report.
Rerunning the same command resumes the study until it has --trials finished (complete or pruned) trials.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

from numpynn.cli.sweep_space import SweepSpec, grid_spec, read_sweep_file, read_sweep_toml
from numpynn.cli.train_config import TrainConfig
from numpynn.io.atomic import atomic_write_text

DEFAULT_TRIALS = 20
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
    from numpynn.cli.train import add_train_options
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
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # a --jobs worker; its plan on stdin
    add_train_options(p, skip=SWEEP_SKIPS)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from numpynn.cli.sweep_study import import_optuna, masked_url  # fcntl and Optuna: only when a sweep runs
    import_optuna()  # fails in one sentence, before anything is written, when the extra is missing
    if args.worker:
        return _worker(json.loads(sys.stdin.read()))
    if args.report is not None:
        return _report_only(args)
    flags = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    spec, default_out = _spec(args, flags)
    for option, value in (("--jobs", args.jobs), ("--trials", args.trials)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1, got {value}.")
    out = Path(args.out or default_out)
    name = args.study or out.name
    storage = args.storage or str(out / "study.journal")
    target = args.trials or spec.trials or (len(spec.grid()) if spec.sampler == "grid" else DEFAULT_TRIALS)
    if spec.sampler == "grid":
        target = min(target, len(spec.grid()))
    plan = {"storage": storage, "study": name, "out": str(out), "trials": target, "base": spec.base.to_dict(),
            "spec": {**spec.to_dict(), "seed": spec.seed, "heartbeat": spec.heartbeat}}
    _write_sweep_json(out, plan)
    study = _open(plan, create=True)
    _start(study, spec, target)
    finished = len(study.trials(("COMPLETE", "PRUNED")))
    print(f"Sweep {name!r}: {target} trials ({finished} finished before), sampler {spec.sampler}, pruner "
          f"{spec.pruner}, {args.jobs} worker{'s' if args.jobs > 1 else ''}; storage {masked_url(storage)}.\n"
          f"Objective: accuracy on a held-out {spec.base.val_split:.0%} of the training rows (never the test set).")
    code = _run_workers(study, plan, out, target, args.jobs)
    from numpynn.cli.sweep_report import write_report
    written = write_report(study.study, spec, out, name, grid=spec.sampler == "grid")
    print("Wrote:\n" + "\n".join(f"  {p}" for p in written))
    if code == 0 and args.retrain_best:
        return _retrain_best(study, spec, out)
    return code


def _spec(args, flags) -> tuple[SweepSpec, str]:
    if args.grid:
        file_values = {}
        if args.config is not None:
            file_values, search, _ = read_sweep_toml(args.config)
            if search:
                raise ValueError(f"--grid replaces the [search] table of {args.config}; use one or the other.")
        keys = "-".join(e.partition("=")[0].strip() for e in args.grid)
        return grid_spec(args.grid, flags, file_values, source=args.config or "--grid"), f"sweeps/grid-{keys}"
    if args.config is None:
        raise ValueError("numpynn sweep needs --config FILE (a TOML with a [search] table) or --grid KEY=V1,V2; "
                         "see numpynn sweep --help.")
    return read_sweep_file(args.config, flags), f"sweeps/{Path(args.config).stem}"


def _open(plan: dict, create: bool = False, index: int = 0):
    from numpynn.cli.sweep_study import Study
    spec = SweepSpec.from_dict(plan["spec"], TrainConfig.from_dict(plan["base"], "the sweep plan"))
    return Study(plan["storage"], plan["study"], spec, seed_index=index, create=create)


def _start(study, spec: SweepSpec, target: int) -> None:
    """Tie the study to this sweep (a rerun with other settings is refused) and queue a grid once."""
    wanted = json.loads(json.dumps(spec.to_dict()))
    with study.lock():
        attrs = study.study.user_attrs
        if "numpynn_sweep" not in attrs:
            study.study.set_user_attr("numpynn_sweep", wanted)
            if spec.sampler == "grid":  # queued up front: workers take them in turn, none twice
                for params in spec.grid():
                    study.study.enqueue_trial(params, skip_if_exists=True)
        elif attrs["numpynn_sweep"] != wanted:
            raise ValueError(f"Study {study.name!r} was started with other sweep settings; rerun it with the same "
                             "file and flags, or pass a new --study name (or --out folder) for these.")


def _run_workers(study, plan: dict, out: Path, target: int, jobs: int) -> int:
    from numpynn.cli.sweep_report import Progress
    from numpynn.cli.sweep_worker import Worker
    progress = Progress(target, study.trials())
    try:
        if len(study.trials(("COMPLETE", "PRUNED"))) >= target:
            pass  # resumed a finished study: nothing to start
        elif jobs == 1:
            Worker(study, out, target, on_trial=lambda: progress.update(study.trials())).run()
        else:
            _run_subprocesses(study, plan, jobs, progress)
        progress.update(study.trials())
    finally:
        progress.close()
    finished = len(study.trials(("COMPLETE", "PRUNED")))
    if finished < target:
        print(f"The study has {finished} of {target} finished trials; rerun the same command to finish it.",
              file=sys.stderr)
        return 1
    return 0


def _run_subprocesses(study, plan: dict, jobs: int, progress) -> None:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # K workers share the cores
        env.setdefault(var, str(max(1, (os.cpu_count() or 1) // jobs)))
    procs = []
    for i in range(jobs):
        p = subprocess.Popen([sys.executable, "-m", "numpynn", "sweep", "--worker"], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, env=env, text=True)
        p.stdin.write(json.dumps({**plan, "index": i}))  # on stdin: a database password stays out of `ps`
        p.stdin.close()
        procs.append(p)
    try:
        while any(p.poll() is None for p in procs):
            time.sleep(0.5)
            progress.update(study.trials())
    except KeyboardInterrupt:  # the workers got the same Ctrl-C: each fails and re-queues its trial
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        raise
    for p in procs:
        if p.returncode == 2:
            raise ValueError(f"a sweep worker stopped on an error (printed above); the study {study.name!r} keeps "
                             "its finished trials.")
        if p.returncode != 0:
            print(f"Worker {p.pid} ended with {'signal ' + str(-p.returncode) if p.returncode < 0 else p.returncode};"
                  " its trial is queued again.", file=sys.stderr)


def _worker(plan: dict) -> int:
    from numpynn.cli.sweep_worker import Worker
    study = _open(plan, index=plan.get("index", 0))
    Worker(study, Path(plan["out"]), plan["trials"]).run()
    return 0


def _report_only(args) -> int:
    folder = Path(args.report)
    try:
        saved = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(f"{folder} holds no readable sweep.json; pass a folder that `numpynn sweep` wrote.") from None
    if args.storage is None and saved.get("storage_masked"):
        raise ValueError(f"The storage of {folder} has a password, which sweep.json does not keep; pass --storage.")
    plan = {**saved, "storage": args.storage or saved["storage"]}
    study = _open(plan)
    from numpynn.cli.sweep_report import write_report
    written = write_report(study.study, study.spec, folder, plan["study"], grid=study.spec.sampler == "grid")
    print("Wrote:\n" + "\n".join(f"  {p}" for p in written))
    return _retrain_best(study, study.spec, folder) if args.retrain_best else 0


def _retrain_best(study, spec: SweepSpec, out: Path) -> int:
    from numpynn.cli.sweep_report import best_complete
    from numpynn.cli.train import train
    best = best_complete(study.trials())
    if best is None:
        raise ValueError(f"Study {study.name!r} has no completed trial to retrain yet.")
    folder = out / "best"
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"{folder} already holds a retrained best run; `numpynn evaluate {folder}` shows its test "
                         "accuracy (delete the folder to retrain).")
    print(f"Retraining trial {best.number}'s options on the whole training set; the test set is scored once:")
    return train(spec.config_for(best.params, val_split=0.0, out=str(out), name="best", quiet=True))


def _write_sweep_json(out: Path, plan: dict) -> None:
    """What --report needs later; a database password is never written down."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; pass a folder for the sweep.")
    path = out / "sweep.json"
    if path.is_file():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8")).get("study")
        except (OSError, ValueError, AttributeError):
            earlier = None
        if earlier is not None and earlier != plan["study"]:
            raise ValueError(f"{out} holds study {earlier!r}; pass another --out folder for study {plan['study']!r}.")
    from numpynn.cli.sweep_study import masked_url
    out.mkdir(parents=True, exist_ok=True)
    masked = masked_url(plan["storage"])
    saved = {**plan, "storage": masked, "storage_masked": masked != plan["storage"]}
    atomic_write_text(path, json.dumps(saved, indent=2) + "\n")
