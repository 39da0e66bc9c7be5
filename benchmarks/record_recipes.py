"""Re-run (or re-record) the README's Results rows: each recipe, script or sweep in a child process, timed.

    python benchmarks/record_recipes.py [NAME ...] [--threads 1] [--list]
        -> results/recipes/NAME.json and NAME.md for each NAME run, then results/recipes.md (every row)

Each row runs its command in a child (NUMPYNN_THREADS set to --threads), records the wall time from launch to
exit, the accuracy the command printed last (its own line: "Test Accuracy: 0.9806", "Validation Accuracy"),
the output's tail, and the header of every results file (date, commit, load average before and after, threads,
BLAS kernel). Rows that take too long for a given day are not re-run: `--previous NAME` writes their record from
the earlier run README quoted (date and build named in the file, marked "not re-run"), so every README figure
still has a file, and a later `record_recipes.py NAME` replaces it with a measured one (which `--previous` then
keeps).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import record

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "recipes"
ACC = r"(?:Test|Validation|held-out|Held-out) Accuracy:? ([0-9.]+)"

# name: (README row, command after `python`, accuracy regex). {out} is a fresh temporary folder.
ROWS = {
    "train-default": ("`numpynn train` (article's MLP, full MNIST, 20 epochs, batch 64)",
                      ["-m", "numpynn", "train", "--no-plots", "--out", "{out}"], ACC),
    "train-preset-article": ("`numpynn train --preset article` (5,000 rows, 1,000 held out)",
                             ["-m", "numpynn", "train", "--preset", "article", "--no-plots", "--out", "{out}"], ACC),
    "article-script": ("the article's script (`python -m numpynn.article --seed 0 examples/article/train_mlp.py`)",
                       ["-m", "numpynn.article", "--seed", "0", "--save-figures", "{out}",
                        "examples/article/train_mlp.py"], r"Final Test Accuracy:? ([0-9.]+)"),
    "series-4.1": ("Part 4.1's script (`--seed 0`)", ["-m", "numpynn.article", "--seed", "0", "--save-figures", "{out}",
                                                      "examples/series/part4_1_deeper_mlp.py"], ACC),
    "series-4.4": ("Part 4.4's script (`--seed 0`)", ["-m", "numpynn.article", "--seed", "0", "--save-figures", "{out}",
                                                      "examples/series/part4_4_regularization.py"], ACC),
    "series-4.5": ("Part 4.5's script (`--seed 0`)", ["-m", "numpynn.article", "--seed", "0", "--save-figures", "{out}",
                                                      "examples/series/part4_5_momentum.py"], ACC),
    "mnist-99": ("`numpynn train --config recipes/mnist-99.toml`", ["-m", "numpynn", "train", "--config",
                                                                     "recipes/mnist-99.toml", "--no-plots", "--out",
                                                                     "{out}"], ACC),
    "mnist-cnn": ("`numpynn train --config mnist-cnn`", ["-m", "numpynn", "train", "--config",
                                                      "recipes/mnist-cnn.toml", "--no-plots", "--out", "{out}"], ACC),
    "lenet5": ("`numpynn train --config lenet5`",
               ["-m", "numpynn", "train", "--config", "recipes/lenet5.toml", "--no-plots", "--out", "{out}"], ACC),
    # The sequence recipes keep their pictures (steps.png, attention.png): they are part of what the recipe makes.
    "mnist-lstm": ("`numpynn train --config recipes/mnist-lstm.toml`",
                   ["-m", "numpynn", "train", "--config", "recipes/mnist-lstm.toml", "--out", "{out}"], ACC),
    "mnist-vit": ("`numpynn train --config recipes/mnist-vit.toml`",
                  ["-m", "numpynn", "train", "--config", "recipes/mnist-vit.toml", "--out", "{out}"], ACC),
    "sweep": ("`numpynn sweep --config sweep` (20 trials, 5 epochs, 10,000 rows)",
              ["-m", "numpynn", "sweep", "--config", "recipes/sweep.toml", "--out", "{out}"],
              r"[Bb]est: trial \d+, validation accuracy ([0-9.]+)"),
}

# The runs README quoted before this script existed (2026-12-01/02, builds named in README's Results text).
PREVIOUS = {
    "mnist-99": {"accuracy": "99.10 % test", "seconds": 194, "run": "0.1.0 build, 2 threads, 2026-11 (README)"},
    "mnist-cnn": {"accuracy": "99.46 % test", "seconds": 231,
                  "run": "build of merge c4b028e, quiet machine, --no-plots, 2026-12-02 (README)"},
    "lenet5": {"accuracy": "99.16 % test", "seconds": 1554,
               "run": "commit d998a9a (conv branch), load average 10-13, 2026-12-01 (README)"},
    "sweep": {"accuracy": "96.10 % best validation; 95.29 % test after --retrain-best", "seconds": 56,
              "run": "sweep branch merge eea9fb5, 1 worker, 2026-12-01 (README)"},
    "train-default": {"accuracy": "98.06 % test", "seconds": 20.5, "run": "2026-12-01 build, 1 thread, quiet machine "
                      "(README)"},
    "series-4.4": {"accuracy": "0.925 vs 0.937", "seconds": 17.7, "run": "2026-12-01 build (README)"},
    "series-4.5": {"accuracy": "0.862 at epoch 20", "seconds": 11.8, "run": "2026-12-01 build (README)"},
}
# Rows `make bench` re-records from their last run rather than re-running (hours on a shared 2-core machine).
LONG = ("mnist-99", "mnist-cnn", "lenet5", "sweep", "mnist-lstm", "mnist-vit")


def run_row(name: str, threads: int) -> dict:
    label, argv, pattern = ROWS[name]
    result = record.machine(threads, row=name, readme_row=label)
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable] + [a.replace("{out}", out) for a in argv]
        env = {**os.environ, "NUMPYNN_THREADS": str(threads), "MPLBACKEND": "Agg"}
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=record.ROOT, env=env, capture_output=True, text=True)
        result["seconds"] = time.perf_counter() - t0
        pictures = [f for f in Path(out).rglob("*.png") if f.name in ("steps.png", "attention.png")]
        for f in pictures:  # the sequence recipes' pictures outlive the temporary run folder
            shutil.copyfile(f, OUT / f"{name}-{f.name}")
        result["pictures"] = sorted(f"results/recipes/{name}-{f.name}" for f in pictures)
    text = done.stdout + done.stderr
    # Progress bars redraw one line with carriage returns: keep only the lines a log would keep.
    shown = (line.rsplit("\r", 1)[-1] for line in text.splitlines())
    text = "\n".join(line for line in shown if line.strip() and "%|" not in line)
    found = re.findall(pattern, text)
    result.update(command=" ".join(["python"] + argv).replace("{out}", "TMP"), returncode=done.returncode,
                  accuracy=found[-1] if found else None, output_tail=text[-1500:], measured=True)
    return record.finish(result)


def previous_row(name: str) -> dict:
    result = record.machine(None, row=name, readme_row=ROWS[name][0])
    result.update(PREVIOUS[name], measured=False, command=" ".join(["python"] + ROWS[name][1]).replace("{out}", "TMP"),
                  note="not re-run by this script yet: the figure of the run named in 'run', as README quoted it; "
                       "the header (date, load, BLAS) is when this record was written, not when that run ran")
    return record.finish(result)


def markdown(r: dict) -> str:
    acc = r.get("accuracy") or "?"
    how = (f"measured: {r['seconds']:.1f} s wall, exit {r['returncode']}" if r["measured"] else
           f"NOT re-run: {r['seconds']} s from {r['run']}")
    return f"| {r['row']} | {r['readme_row']} | {acc} | {how} | {record.header_line(r)} |"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="rows to run (default: all that are not long): " + ", ".join(ROWS))
    p.add_argument("--threads", type=int, default=1, help="NUMPYNN_THREADS for the children (default 1)")
    p.add_argument("--previous", nargs="*", default=[], help="rows to record from their previous run instead")
    args = p.parse_args(argv)
    names = args.names or [n for n in ROWS if n not in LONG]
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names + args.previous:
        kept = OUT / f"{name}.json"
        if name in args.previous and kept.is_file() and json.loads(kept.read_text()).get("measured"):
            print(f"{name}: kept its measured record ({kept.name})", flush=True)  # never replaced by an older figure
            continue
        r = previous_row(name) if name in args.previous else run_row(name, args.threads)
        (OUT / f"{name}.json").write_text(json.dumps(r, indent=1) + "\n")
        (OUT / f"{name}.md").write_text("| row | README | accuracy | time | record |\n| --- | --- | --- | --- | --- |\n"
                                        + markdown(r) + "\n")
        print(markdown(r), flush=True)
    rows = [json.loads(f.read_text()) for f in sorted(OUT.glob("*.json"))]
    (HERE / "results" / "recipes.md").write_text(
        "# README Results rows and their records (benchmarks/record_recipes.py)\n\n| row | README | accuracy | time | "
        "record |\n| --- | --- | --- | --- | --- |\n" + "\n".join(markdown(r) for r in rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
