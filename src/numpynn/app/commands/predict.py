"""`numpynn predict`: the digit in each image file, after MNIST-style preparation."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from numpynn import threads
from numpynn.app.runs.folder import MODEL_HELP, check_width, open_model
from numpynn.data.images import FIELD, is_image, prepare_digit, save_png
from numpynn.errors import CheckpointError, DataError, NumpynnError

EXAMPLES = """examples:
  numpynn predict runs/NAME digit.png
  numpynn predict runs/NAME *.jpg --json
  numpynn predict runs/NAME photo.jpg --save-preprocessed seen/
"""


def add_parser(sub) -> None:
    help = "the digit in each image (PNG/JPEG, any size, dark-on-light or light-on-dark)"
    p = sub.add_parser("predict", help=help, description=help, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    threads.add_option(p)
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files, one digit each")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.add_argument("--save-preprocessed", metavar="DIR", nargs="?", const=".",
                   help="write the 28x28 image the model saw, as DIR/<image>-28x28.png (default DIR: .)")
    p.set_defaults(handler=run)


def run(args) -> int:
    """The label and top-3 probabilities of each image, after MNIST-style preprocessing; exit 2 if any failed."""
    trained = _open(args.model)
    check_width(trained, FIELD * FIELD, f"{FIELD}x{FIELD} digit images")
    pixels, good, failed = [], [], {}
    for i, path in enumerate(args.images):  # one unreadable image costs its own answer, not the others'
        try:
            pixels.append(prepare_digit(path))
            good.append(i)
        except (NumpynnError, ValueError, OSError) as exc:
            message = str(exc)
            failed[i] = message if str(path) in message else f"{path}: {message}"
    results = {i: {"image": str(args.images[i]), "error": message} for i, message in failed.items()}
    if pixels:
        pixels = np.stack(pixels)
        probs = trained.model.predict_proba(trained.as_input(trained.preprocess(pixels.reshape(len(pixels), -1))))
        paths = [args.images[i] for i in good]
        saved = _save_preprocessed(args.save_preprocessed, paths, pixels) if args.save_preprocessed else {}
        names = trained.class_names
        for i, path, p in zip(good, paths, probs):
            top = np.argsort(-p, kind="stable")[:3]
            results[i] = {"image": str(path), "label": int(top[0]), "class_name": names[top[0]],
                          "top3": [{"label": int(k), "class_name": names[k], "probability": float(p[k])}
                                   for k in top],
                          **({"preprocessed": str(saved[path])} if path in saved else {})}
    results = [results[i] for i in range(len(args.images))]
    if args.json:  # allow_nan=False: the output is valid JSON or an error, never a NaN
        print(json.dumps({"model": str(trained.path), "predictions": results}, indent=2, allow_nan=False))
    else:
        for r in results:
            if "error" in r:
                continue
            top3 = ", ".join(f"{t['class_name']}: {t['probability']:.1%}" for t in r["top3"])
            print(f"{r['image']}: {r['class_name']}  ({top3})")
            if "preprocessed" in r:
                print(f"  the model saw {r['preprocessed']}")
    for message in failed.values():
        print(f"numpynn: error: {message}", file=sys.stderr)
    return 2 if failed else 0


def _open(model):
    """open_model, saying so when the first argument is an image: `predict digit.png` forgot the model."""
    try:
        return open_model(model, door="predict")
    except CheckpointError:
        if is_image(model):
            raise DataError(f"{model} is an image, but predict's first argument must be the model (a run folder "
                            f"or its model.safetensors): numpynn predict runs/NAME {model}") from None
        raise


def _save_preprocessed(folder, images, pixels) -> dict:
    folder, saved, used = Path(folder), {}, set()
    for path, digit in zip(images, pixels):
        stem, k = Path(path).stem, 1
        name = f"{stem}-28x28.png"
        while name in used:  # two inputs with one file name (from different folders) keep both outputs
            k += 1
            name = f"{stem}-{k}-28x28.png"
        used.add(name)
        saved[path] = save_png(folder / name, digit)
    return saved
