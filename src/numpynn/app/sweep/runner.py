"""Running a sweep: a hyperparameter search on Optuna in which every trial is a `numpynn train` run folder.

The sweep folder holds the study (study.journal, unless --storage names a database), sweep.json (what is
searched, so `--report` and a rerun know), one run folder per trial (trial-0000, ...), and the report.
Rerunning the same command resumes the study until it has --trials finished (complete or pruned) trials.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from numpynn.app.runs.train_config import TrainConfig
from numpynn.app.sweep.space import SweepSpec, grid_spec, read_sweep_file, read_sweep_toml
from numpynn.io.atomic import atomic_write_text

DEFAULT_TRIALS = 20
PLAN_KEYS = ("storage", "study", "out", "trials", "base", "spec")


def sweep(flags: dict, *, config: str | None, grid: list[str], trials: int | None, jobs: int, storage: str | None,
          study_name: str | None, out: str | None, retrain_best: bool, quiet: bool = False) -> int:
    """Start or resume the sweep the options describe, run its trials in `jobs` workers, write its report."""
    from numpynn.app.sweep.study import check_storage, masked_url  # filelock and Optuna: only when a sweep runs
    spec, default_out = _spec(config, grid, flags)
    for option, value in (("--jobs", jobs), ("--trials", trials)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1, got {value}.")
    out = Path(out or default_out)
    name = study_name or out.name
    storage = storage or str(out / "study.journal")
    check_storage(storage)
    target = trials or spec.trials or (len(spec.grid()) if spec.sampler == "grid" else DEFAULT_TRIALS)
    if spec.sampler == "grid":
        target = min(target, len(spec.grid()))
    plan = {"storage": storage, "study": name, "out": str(out), "trials": target, "base": spec.base.to_dict(),
            "spec": {**spec.to_dict(), "seed": spec.seed, "heartbeat": spec.heartbeat}}
    _write_sweep_json(out, plan)
    study = _open(plan, create=True)
    _start(study, spec, target)
    finished = len(study.trials(("COMPLETE", "PRUNED")))
    say = (lambda *a, **k: None) if quiet else print
    say(f"Sweep {name!r}: {target} trials ({finished} finished before), sampler {spec.sampler}, pruner "
          f"{spec.pruner}, {jobs} worker{'s' if jobs > 1 else ''}; storage {masked_url(storage)}.\n"
          f"Objective: accuracy on a held-out {spec.base.val_split:.0%} of the training rows (never the test set).")
    code = _run_workers(study, plan, out, target, jobs, quiet)
    from numpynn.app.sweep.report import write_report
    written = write_report(study.study, spec, out, name, grid=spec.sampler == "grid", quiet=quiet)
    print("Wrote:\n" + "\n".join(f"  {p}" for p in written))
    if code == 0 and retrain_best:
        return _retrain_best(study, spec, out)
    return code


def _spec(config: str | None, grid: list[str], flags: dict) -> tuple[SweepSpec, str]:
    if grid:
        file_values = {}
        if config is not None:
            file_values, search, _ = read_sweep_toml(config)
            if search:
                raise ValueError(f"--grid replaces the [search] table of {config}; use one or the other.")
        keys = "-".join(e.partition("=")[0].strip() for e in grid)
        return grid_spec(grid, flags, file_values, source=config or "--grid"), f"sweeps/grid-{keys}"
    if config is None:
        raise ValueError("numpynn sweep needs --config FILE (a TOML with a [search] table) or --grid KEY=V1,V2; "
                         "see numpynn sweep --help.")
    return read_sweep_file(config, flags), f"sweeps/{Path(config).stem}"


def _open(plan: dict, create: bool = False, index: int = 0):
    from numpynn.app.sweep.study import Study, check_storage
    check_storage(plan["storage"])
    try:
        spec = SweepSpec.from_dict(plan["spec"], TrainConfig.from_dict(plan["base"], "the sweep plan"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"The sweep plan (sweep.json) is damaged ({type(exc).__name__}: {exc}); rerun the sweep's "
                         "command to write it again.") from None
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


def _run_workers(study, plan: dict, out: Path, target: int, jobs: int, quiet: bool = False) -> int:
    from numpynn.app.sweep.report import Progress
    from numpynn.app.sweep.worker import Worker
    progress = Progress(target, study.trials(), enabled=not quiet)
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


def work(plan: dict) -> int:
    """A --jobs worker process: run trials of the study in `plan` until it has enough."""
    from numpynn.app.sweep.worker import Worker
    study = _open(plan, index=plan.get("index", 0))
    Worker(study, Path(plan["out"]), plan["trials"]).run()
    return 0


def report_only(folder: Path, storage: str | None, retrain_best: bool, quiet: bool = False) -> int:
    """`--report DIR`: the table, best.toml and figures of the sweep in DIR, then maybe the best retrained."""
    try:
        saved = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(f"{folder} holds no readable sweep.json; pass a folder that `numpynn sweep` wrote.") from None
    missing = [key for key in PLAN_KEYS if key not in saved] if isinstance(saved, dict) else list(PLAN_KEYS)
    if missing:
        raise ValueError(f"{folder / 'sweep.json'} is not a plan `numpynn sweep` wrote (no {missing[0]!r}); pass the "
                         "folder of a sweep, or rerun the sweep's command to write it again.")
    if storage is None and saved.get("storage_masked"):
        raise ValueError(f"The storage of {folder} has a password, which sweep.json does not keep; pass --storage.")
    plan = {**saved, "storage": storage or saved["storage"]}
    study = _open(plan)
    from numpynn.app.sweep.report import write_report
    written = write_report(study.study, study.spec, folder, plan["study"], grid=study.spec.sampler == "grid",
                           quiet=quiet)
    print("Wrote:\n" + "\n".join(f"  {p}" for p in written))
    return _retrain_best(study, study.spec, folder) if retrain_best else 0


def _retrain_best(study, spec: SweepSpec, out: Path) -> int:
    from numpynn.app.runs.training import train
    from numpynn.app.sweep.report import best_complete
    best = best_complete(study.trials())
    if best is None:
        raise ValueError(f"Study {study.name!r} has no completed trial to retrain yet.")
    folder = out / "best"
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"{folder} already holds a retrained best run; `numpynn evaluate {folder}` shows its test "
                         "accuracy (delete the folder to retrain).")
    print(f"Retraining trial {best.number}'s options on the whole training set; the test set is scored once:")
    # The whole training set: no validation split and no --subset (0.2.0 kept the sweep's subset).
    return train(spec.config_for(best.params, val_split=0.0, subset=None, out=str(out), name="best", quiet=True))


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
    from numpynn.app.sweep.study import masked_url
    out.mkdir(parents=True, exist_ok=True)
    masked = masked_url(plan["storage"])
    saved = {**plan, "storage": masked, "storage_masked": masked != plan["storage"]}
    atomic_write_text(path, json.dumps(saved, indent=2) + "\n")
