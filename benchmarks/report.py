"""Turn benchmarks/results/<mode>.json into the markdown table: results/latest.md, and README.md's bench section.

    python benchmarks/report.py            # as-set.json + unset.json -> results/latest.md
    python benchmarks/report.py --readme   # also replace the text between README.md's bench markers

README.md is only touched when it holds both markers (<!-- bench:start --> and <!-- bench:end -->).
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = ("as-set", "unset")
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
TARGETS = {"torch": 0.6, "torch_1thread": 0.45, "floor": 1.25, "article": 4.0, "load": 1.0, "rss": 600.0}


def _ratio(a: dict | None, b: dict | None) -> tuple[float, float] | None:
    """(median of the per-round ratios, ratio of best runs) of two timing summaries; None if either is missing.

    run.py times every contender once per round, back to back, so runs[i] of two contenders are a pair."""
    if not a or not b:
        return None
    pairs = sorted(x / y for x, y in zip(a["runs"], b["runs"]))
    mid = len(pairs) // 2
    median = pairs[mid] if len(pairs) % 2 else (pairs[mid - 1] + pairs[mid]) / 2
    return median, a["min"] / b["min"]


def _ratio_cell(r, better_when_low: bool = True, target: float | None = None) -> tuple[str, str]:
    """('0.58 (best 0.55)', 'met') for the targets table; judged on the ratio of medians."""
    if r is None:
        return "—", "—"
    met = None if target is None else (r[0] <= target if better_when_low else r[0] >= target)
    return f"{r[0]:.2f} (best {r[1]:.2f})", _mark(met)


def _fmt(x, spec=".2f", none="—"):
    return none if x is None else format(x, spec)


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def environment(result: dict) -> str:
    m = result["machine"]
    env = {k: v for k, v in m["env"].items() if k.startswith("OPENBLAS_C") or k.startswith("OPENBLAS_L2")}
    set_vars = ", ".join(f"{k}={v}" for k, v in env.items() if v is not None) or "neither variable set"
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']} kernel)" for b in m["numpy_blas"])
    torch = m["torch"]
    # contenders.Torch sets torch.set_num_threads to the run's thread count (machine() read it before that)
    torch_text = f"PyTorch {torch['version']} ({m['threads']} threads)" if torch else "PyTorch not installed"
    rounds = [x for timed in result["batches"].values() for x in timed.get("loadavg_per_round", [])]
    during = f", {min(rounds):.1f}–{max(rounds):.1f} during the timed rounds" if rounds else ""
    return (f"{m['cpu']}, {m['cores']} cores; NumPy {m['numpy']} on {blas}, {m['threads']} thread(s) "
            f"(numpynn.threads); commit {m.get('commit', '?')}; "
            f"{torch_text}. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: {set_vars}. "
            f"1-minute load average {m['loadavg_start'][0]:.1f} at start{during}, {m['loadavg_end'][0]:.1f} at end "
            f"(other users' jobs share the {m['cores']} cores); {m['date']}.")


def epoch_table(result: dict) -> list[str]:
    flop = result["flops_per_sample"] * result.get("rows", 60000) / 1e9
    rows = ["| batch | contender | s/epoch (median) | min–max | time ÷ numpynn | GFLOP/s |",
            "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for b, timed in result["batches"].items():
        mine = timed["epoch"]["numpynn"]
        for name, t in timed["epoch"].items():
            rows.append(f"| {b} | {name} | {t['median']:.3f} | {t['min']:.3f}–{t['max']:.3f} | "
                        f"{t['median'] / mine['median']:.2f} | {flop / t['median']:.0f} |")
    return rows


def targets(result: dict) -> list[str]:
    e64 = result["batches"].get("64", {}).get("epoch", {})
    mine = e64.get("numpynn")
    torch_target = TARGETS["torch"] if result["machine"]["threads"] != 1 else TARGETS["torch_1thread"]
    vs_torch = _ratio_cell(_ratio(mine, e64.get("PyTorch")), target=torch_target)
    vs_floor = _ratio_cell(_ratio(mine, e64.get("GEMM floor")), target=TARGETS["floor"])
    speedup = _ratio_cell(_ratio(e64.get("article"), mine), better_when_low=False, target=TARGETS["article"])
    loads = result.get("load", {})
    load = loads.get("cold") or loads.get("load_mnist")  # cold: a fresh cache pays gunzip, hash and cache write
    warm = loads.get("warm")
    load_text = "—" if not load else f"{load['median']:.3f} s" + (f" (warm {warm['median']:.3f} s)" if warm else "")
    run = result.get("train_run")
    rss = run["peak_rss_mb"] if run and run["returncode"] == 0 else None
    rows = ["| target (batch 64; median of the interleaved pairs' ratios, best epochs' ratio in brackets) | measured "
            "| |",
            "| --- | ---: | --- |",
            f"| numpynn / PyTorch ≤ {torch_target} | {vs_torch[0]} | {vs_torch[1]} |",
            f"| numpynn / GEMM floor ≤ {TARGETS['floor']} | {vs_floor[0]} | {vs_floor[1]} |",
            f"| article / numpynn ≥ {TARGETS['article']:g} (speed-up) | {speedup[0]} | {speedup[1]} |",
            f"| `load_mnist()` ≤ {TARGETS['load']:g} s{' (fresh cache)' if 'cold' in loads else ''} | {load_text} | "
            f"{_mark(None if not load else load['median'] <= TARGETS['load'])} |",
            f"| peak RSS of `numpynn train` ≤ {TARGETS['rss']:.0f} MB | {_fmt(rss, '.0f')}{' MB' if rss else ''} | "
            f"{_mark(None if rss is None else rss <= TARGETS['rss'])} |"]
    if run:
        reached = run.get("reached_97_5")
        when = (f"{reached['elapsed']:.1f} s (epoch {reached['epoch']}, from launch)" if reached
                else f"not reached in {len(run['epochs'])} epochs")
        if run["returncode"]:
            when = f"`{run['command']}` failed (exit {run['returncode']})"
        rows.append(f"| time to 97.5 % test accuracy, `{run['command']}` | {when} | reported |")
    return rows


def predict_table(result: dict) -> list[str]:
    timed = result["batches"].get("64", {})
    if "predict" not in timed:
        return []
    mine = timed["predict"]["numpynn"]
    rows = ["| predict, 10,000 test images | ms (median) | min–max | time ÷ numpynn | test accuracy |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for name, t in timed["predict"].items():
        rows.append(f"| {name} | {1e3 * t['median']:.1f} | {1e3 * t['min']:.1f}–{1e3 * t['max']:.1f} | "
                    f"{t['median'] / mine['median']:.2f} | {timed['test_accuracy'][name]:.4f} |")
    return rows


def section(result: dict) -> str:
    mode = result["machine"]["mode"]
    title = {"as-set": "Environment as set", "unset": "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"}.get(mode, mode)
    title += f", {result['machine']['threads']} thread(s)"
    rows = result.get("rows", 60000)
    note = [] if rows == 60000 else [f"Epochs of the first {rows:,} training rows (shorter, for a busy machine).",
                                     ""]
    lines = [f"#### {title}", "", environment(result), "", *note, *epoch_table(result), "", *targets(result), ""]
    pred = predict_table(result)
    if pred:
        lines += [*pred, ""]
    skipped = [m for m in result["skipped"].values() if m]
    if skipped:
        lines += [f"_{m}_" for m in skipped] + [""]
    return "\n".join(lines)


def render(results: list[dict]) -> str:
    head = ("One MNIST training epoch (60,000 images, 784-256-10, float32, SGD lr 0.1, 1 or 2 threads), every "
            "contender timed in turn in one run (`make bench`); ratios are the result, seconds depend on the "
            "machine's load. "
            "49.1 GFLOP an epoch. The GEMM floor is the five matrix products alone; the article is its code as "
            "written (float64, Z1 recomputed). Method and profile: benchmarks/README.md.")
    return "\n".join([head, "", *(section(r) for r in results)])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", default=str(HERE / "results"))
    p.add_argument("--readme", action="store_true", help="also update README.md between the bench markers")
    args = p.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "src"))
    from numpynn.io.atomic import atomic_write_text

    found = [f for m in MODES for f in sorted(Path(args.results).glob(f"{m}-*thread.json"))]
    if not found:
        print(f"No results in {args.results}; run `make bench` first.", file=sys.stderr)
        return 1
    text = render([json.loads(f.read_text()) for f in found])
    atomic_write_text(Path(args.results) / "latest.md", text + "\n")
    print(f"Wrote {Path(args.results) / 'latest.md'}")
    readme = HERE.parent / "README.md"
    if args.readme:
        body = readme.read_text()
        if START in body and END in body:
            before, rest = body.split(START, 1)
            atomic_write_text(readme, before + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])
            print(f"Updated {readme}")
        else:
            print(f"README.md has no {START} ... {END} markers: left as is.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
