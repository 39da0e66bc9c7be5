"""numpynn.sklearn.MLPClassifier against scikit-learn's own MLPClassifier, and ONNX Runtime against numpynn.

Side by side in one process (timings are ratios on a shared machine): the same data (the first N MNIST
training images /255, all 10,000 test images), the same parameters (scikit-learn's defaults but max_iter),
interleaved repeats, median seconds. Then the exported ONNX model's inference on the test images against
numpynn's predict_proba. Prints a markdown table; `--out FILE` also writes it there.

    python benchmarks/interop.py [--subset 10000] [--epochs 20] [--repeats 3] [--out benchmarks/results/interop.md]
"""

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import record
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP

import numpynn
from numpynn import datasets, threads
from numpynn.sklearn import MLPClassifier as NumpynnMLP


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    header = record.machine(threads.resolve())
    warnings.simplefilter("ignore", ConvergenceWarning)
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist()
    x = datasets.flatten(x_train[:args.subset]).astype(np.float32) / 255
    y, xt = y_train[:args.subset], datasets.flatten(x_test).astype(np.float32) / 255
    params = dict(hidden_layer_sizes=(100,), max_iter=args.epochs, random_state=0)
    rows, fits = [], {"numpynn.sklearn.MLPClassifier": [], "sklearn.neural_network.MLPClassifier": []}
    for _ in range(args.repeats):  # interleaved, so drifting load hits both alike
        for name, cls in (("numpynn.sklearn.MLPClassifier", NumpynnMLP),
                          ("sklearn.neural_network.MLPClassifier", SklearnMLP)):
            t0 = time.perf_counter()
            est = cls(**params).fit(x, y)
            fits[name].append((time.perf_counter() - t0, est))
    for name, runs in fits.items():
        seconds = statistics.median(s for s, _ in runs)
        est = runs[0][1]
        rows.append((name, seconds, est.score(xt, y_test), est.n_iter_, float(est.loss_curve_[-1])))
    base = rows[1][1]
    lines = [f"MNIST: first {args.subset} training images /255, tested on 10,000; hidden (100,), adam, batch 200, "
             f"{args.epochs} epochs, float32 input; median of {args.repeats}.", "",
             "| estimator | fit seconds | vs scikit-learn | test accuracy | epochs | final loss |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {n} | {s:.2f} | {s / base:.2f}x | {a:.4f} | {it} | {loss:.4f} |" for n, s, a, it, loss in rows]
    # --- ONNX Runtime against numpynn on the trained model, raw 0-255 pixels in
    est = fits["numpynn.sklearn.MLPClassifier"][0][1]
    with tempfile.TemporaryDirectory() as tmp:
        path = numpynn.export_onnx(est.model_, Path(tmp) / "m.onnx", preprocess="255", input_shape=(28, 28))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        raw = x_test.astype(np.float32)
        t_ort, t_np = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            probs = session.run(["probabilities"], {"pixels": raw})[0]
            t_ort.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ours = est.model_.predict_proba(datasets.scale(datasets.flatten(raw), "255"))
            t_np.append(time.perf_counter() - t0)
    same = float(np.mean(probs.argmax(1) == ours.argmax(1)))
    lines += ["", "| inference on 10,000 test images | seconds | argmax agreement | max abs prob diff |",
              "| --- | ---: | ---: | ---: |",
              f"| numpynn predict_proba | {statistics.median(t_np):.3f} | | |",
              f"| onnxruntime {ort.__version__} | {statistics.median(t_ort):.3f} | {same:.4f} | "
              f"{np.abs(probs - ours).max():.1e} |"]
    lines = ["# numpynn.sklearn and ONNX Runtime (benchmarks/interop.py)", "",
             record.header_line(record.finish(header)), "", *lines]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
