"""Train the sequence and attention recipes for real and record what they reach, how long and under what load.

    python benchmarks/recipes.py mnist-lstm [--val] [--out runs/recipes]   -> results/recipe-mnist-lstm[-val].json/.md

Reads recipes/NAME.toml, builds its model with numpynn.nn.models (the same builders `numpynn train` uses for
[model] kind = "lstm" / "vit"), trains it through numpynn.fit on the 60,000 training images and evaluates on the
10,000 test images after the last epoch; with --val it holds out the last 10,000 training images instead and
reports the validation accuracy per epoch (for tuning; the test set is not touched). Writes model.safetensors
and history.json in a run folder, and a results file with date, commit, load average before/after, threads and
the BLAS kernel.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tomllib
from threadpoolctl import threadpool_info, threadpool_limits

import numpynn as nn
from numpynn import datasets
from numpynn.data.augment import RandomShift
from numpynn.nn.models import rnn_classifier, vit

ROOT = Path(__file__).resolve().parent.parent


def build(model_cfg: dict, seed: int):
    """The recipe's Sequential and the input shape per image it takes."""
    kind = model_cfg["kind"]
    if kind in ("lstm", "gru", "rnn"):
        return rnn_classifier(28, 28, model_cfg["hidden"][0], 10, kind=kind, num_layers=model_cfg.get("num_layers", 1),
                              seed=seed), (784,)
    return vit((1, 28, 28), model_cfg["patch_size"], model_cfg["embed_dim"], model_cfg["depth"], model_cfg["heads"],
               model_cfg["mlp_dim"], 10, seed=seed), (1, 28, 28)


def machine(threads: int) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    blas = [{k: b.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for b in threadpool_info() if b.get("user_api") == "blas"]
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "commit": commit.strip(), "threads": threads,
            "blas": blas, "numpy": np.__version__, "cores": os.cpu_count(), "loadavg_before": os.getloadavg()}


class Progress(nn.Callback):
    """Writes the epochs so far to the results file as they finish, so a run cut short still leaves its record."""

    def __init__(self, path: Path, result: dict, run: Path, shape: tuple):
        self.path, self.result, self.run, self.shape = path, result, run, shape

    def on_epoch_end(self, epoch, record, model, optimizer):
        self.result.setdefault("per_epoch", []).append(record["val_acc"])
        self.result.setdefault("epoch_seconds", []).append(record["seconds"])
        self.result.update(epochs_done=epoch, loadavg_after=os.getloadavg())
        nn.io.atomic.atomic_write_text(self.path, json.dumps(self.result, indent=1))
        nn.save_model(self.run / "model.safetensors", model,
                      {"preprocessing": {"method": "255", "input_shape": list(self.shape)}, "epoch": epoch})


def report() -> str:
    """results/sequence-recipes.md: one row per results file of this runner."""
    lines = ["# Sequence and attention recipes, trained for real (benchmarks/recipes.py)", "",
             "| recipe | split | epochs | accuracy | wall time | load avg before -> after | threads | BLAS | date, "
             "commit |", "|---|---|---|---|---|---|---|---|---|"]
    for path in sorted((ROOT / "benchmarks" / "results").glob("recipe-*.json")):
        r = json.loads(path.read_text())
        finished = r.get("finished", "accuracy" in r)  # files of the first runner version have no "finished"
        acc = r.get("accuracy") or (r.get("per_epoch") or [None])[-1]
        done = r["epochs"] if finished else r.get("epochs_done", 0)
        seconds = r.get("seconds") or sum(r.get("epoch_seconds", []))
        blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in r["blas"])
        lines.append(f"| {r['recipe']} | {r['split']} | {done}/{r['epochs']}{'' if finished else ' (unfinished)'} "
                     f"| {100 * acc:.2f} % | {seconds / 60:.1f} min | {r['loadavg_before'][0]:.1f} -> "
                     f"{r['loadavg_after'][0]:.1f} | {r['threads']} | {blas} | {r['date']}, {r['commit']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", choices=["mnist-lstm", "mnist-vit", "report"],
                        help="a recipe to train, or `report` to write results/sequence-recipes.md from its results")
    parser.add_argument("--val", action="store_true", help="hold out 10,000 training images; never the test set")
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs (quick checks)")
    parser.add_argument("--subset", type=int, help="train on the first N images only (quick checks)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "runs" / "recipes"))
    args = parser.parse_args(argv)
    if args.recipe == "report":
        text = report()
        nn.io.atomic.atomic_write_text(ROOT / "benchmarks" / "results" / "sequence-recipes.md", text)
        print(text)
        return 0
    cfg = tomllib.loads((ROOT / "recipes" / f"{args.recipe}.toml").read_text())
    opt_cfg, reg = cfg["optim"], cfg.get("regularisation", {})
    epochs = args.epochs or opt_cfg["epochs"]
    info = machine(args.threads)
    (x, y), (x_test, y_test) = datasets.load_mnist()
    x, x_test = datasets.flatten(x), datasets.flatten(x_test)
    if args.val:
        x, y, x_test, y_test = x[:-10000], y[:-10000], x[-10000:], y[-10000:]
    if args.subset:
        x, y = x[:args.subset], y[:args.subset]
    model, shape = build(cfg["model"], opt_cfg.get("seed", 0))
    x, x_test = x.reshape(len(x), *shape), x_test.reshape(len(x_test), *shape)
    optimizer = nn.AdamW(model, lr=opt_cfg["lr"], weight_decay=opt_cfg.get("weight_decay", 0.01))
    scheduler = nn.CosineAnnealingLR(optimizer, T_max=epochs) if opt_cfg.get("lr_schedule") == "cosine" else None
    shift = reg.get("augment_shift", 0)
    transform = RandomShift(shift) if shift else None
    name = f"{args.recipe}{'-val' if args.val else ''}"
    out = ROOT / "benchmarks" / "results" / f"recipe-{name}.json"
    run = Path(args.out) / name
    run.mkdir(parents=True, exist_ok=True)
    progress = Progress(out, {**info, "recipe": args.recipe, "split": "validation" if args.val else "test",
                              "epochs": epochs, "finished": False, "run_folder": str(run)}, run, shape)
    t0 = time.perf_counter()
    with threadpool_limits(limits=args.threads):
        history = nn.fit(model, nn.CrossEntropyLoss(), optimizer, x, y, epochs=epochs,
                         batch_size=opt_cfg["batch_size"],
                         validation_data=(x_test, y_test), seed=opt_cfg.get("seed", 0), scheduler=scheduler,
                         preprocess=datasets.Scaler("255"), transform=transform,
                         validation_name="Validation" if args.val else "Test", callbacks=[progress])
    wall = time.perf_counter() - t0
    (run / "history.json").write_text(json.dumps(history.records, indent=1))
    result = {**progress.result, "finished": True, "accuracy": history.last["val_acc"], "seconds": wall,
              "loadavg_after": os.getloadavg(), "parameters": model.num_parameters()}
    nn.io.atomic.atomic_write_text(out, json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("recipe", "split", "accuracy", "seconds", "loadavg_after")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
