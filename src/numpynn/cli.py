"""The numpynn command: train, evaluate, predict, plot, info (also `python -m numpynn`).

`train` is a chain of small functions that later options plug into: load_data(config) ->
build_model(config, ...) -> build_optimizer(config, model) -> fit -> the run folder. Every train option
is a TrainConfig field (numpynn.config), so a new field is a new flag; registries turn names into classes.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import MISSING, fields
from pathlib import Path

import numpy as np

from . import __version__, commands
from .callbacks import EarlyStopping, GradientTracker
from .checkpoint import load_training_checkpoint, save_model, save_training_checkpoint
from .config import TrainConfig, resolve_config
from .configfile import read_config_file
from .data.augment import RandomShift
from .errors import NumpynnError, TrainingDiverged, TrainingInterrupted
from .fileio import atomic_write_text
from .functional import softmax
from .datasets import one_hot
from .losses import LOSSES
from .metrics import confusion_matrix
from .model import mlp
from .optim import OPTIMIZERS
from .pipeline import METRIC_COLUMNS, Data, Preprocess, load_data, write_metrics
from .schedules import build_scheduler
from .signals import StopRequest
from .train import Callback, fit

DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
# Which TrainConfig fields each optimizer takes besides lr; a value given to one that ignores it is refused.
OPTIMIZER_ARGS = {"sgd": ("momentum", "nesterov", "weight_decay"), "adam": ("weight_decay",),
                  "adamw": ("weight_decay",), "rmsprop": ("momentum", "weight_decay")}
DEFAULT_LR = {"sgd": 0.1}  # the article's; the other optimizers keep torch's default lr when --lr is unset


# --- model, optimizer, loss ------------------------------------------------------------------------------

def build_model(config: TrainConfig, in_features: int, num_classes: int, rng: np.random.Generator):
    """The MLP in_features -> hidden... -> num_classes that `config` describes."""
    sizes = [in_features, *config.hidden, num_classes]
    return mlp(sizes, activation=config.activation, init=config.init, seed=rng, dtype=np.dtype(config.dtype),
               dropout=config.dropout, batch_norm=config.batch_norm)


def build_optimizer(config: TrainConfig, model):
    """OPTIMIZERS[config.optimizer] with lr and the options that optimizer takes."""
    takes = OPTIMIZER_ARGS.get(config.optimizer, ())
    defaults = TrainConfig()
    for option in sorted({a for args in OPTIMIZER_ARGS.values() for a in args} - set(takes)):
        if getattr(config, option) != getattr(defaults, option):
            raise ValueError(f"--{option.replace('_', '-')} does not apply to --optimizer {config.optimizer}; "
                             "drop it or choose an optimizer that takes it.")
    # Unset (None) values are left out, so the optimizer's own (torch) default applies.
    kwargs = {a: getattr(config, a) for a in ("lr", *takes) if getattr(config, a) is not None}
    if "lr" not in kwargs and config.optimizer in DEFAULT_LR:
        kwargs["lr"] = DEFAULT_LR[config.optimizer]
    return OPTIMIZERS[config.optimizer](model, **kwargs)


def build_extras(config: TrainConfig, optimizer, data: Data) -> tuple:
    """(scheduler, transform, callbacks) for the schedule, augmentation, early-stopping and gradient options."""
    scheduler = build_scheduler(config.lr_schedule, optimizer, config.epochs, config.warmup_epochs)
    transform = None
    if config.augment_shift:
        if data.image_shape is None or len(data.image_shape) != 2:
            raise ValueError("--augment-shift needs square images (such as MNIST's 28x28); drop it for this dataset.")
        transform = RandomShift(config.augment_shift, image_shape=tuple(data.image_shape))
    callbacks = []
    if config.track_gradients:
        callbacks.append(GradientTracker())  # before MetricsCSV, so its columns reach metrics.csv
    if config.early_stopping is not None:
        callbacks.append(EarlyStopping(patience=config.early_stopping))
    return scheduler, transform, callbacks


def build_loss(config: TrainConfig):
    return LOSSES[config.loss]()


def targets_for(config: TrainConfig, y: np.ndarray, num_classes: int) -> np.ndarray:
    """Class indices for cross-entropy; one-hot rows for losses that compare whole vectors (MSE, BCE)."""
    return y if config.loss == "cross_entropy" else one_hot(y, num_classes)


# --- train -----------------------------------------------------------------------------------------------

class MetricsCSV(Callback):
    """Rewrites metrics.csv after every epoch, so an interrupted run keeps the epochs it finished."""

    def __init__(self, path: Path):
        self.path, self.rows = path, []

    def on_epoch_end(self, epoch, record, model, optimizer):
        # fit calls the held-out rows validation data; in a run folder they are the test rows.
        row = {k.replace("val_", "test_", 1) if k.startswith("val_") else k: v for k, v in record.items()}
        self.rows.append({**{k: row.get(k) for k in METRIC_COLUMNS}, **row})
        write_metrics(self.path, self.rows)


def make_run_dir(config: TrainConfig) -> Path:
    """<out>/<name>/, refusing to reuse a named folder that holds files (they are an earlier run's results)."""
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; pass a folder to hold the run folders.")
    if config.name is not None:
        if Path(config.name).name != config.name or config.name.strip() in ("", ".", ".."):
            raise ValueError(f"--name {config.name!r} must be a plain folder name such as lr0.1, without slashes.")
        run = out / config.name
        if run.exists() and any(run.iterdir()):
            raise ValueError(f"Run folder {run} already exists; choose another --name or delete that folder.")
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run, k = out / stamp, 1
        while run.exists():
            k += 1
            run = out / f"{stamp}-{k}"
    run.mkdir(parents=True, exist_ok=True)
    return run


def train(config: TrainConfig, resume: Path | None = None) -> int:
    """Run `config` and write its run folder; each file is complete the moment it appears.

    Every epoch ends with RUN/checkpoint.safetensors; Ctrl-C or SIGTERM adds one at the current step and
    exits 130/143. With `resume` (a run folder) the run continues from that checkpoint, bit-identically.
    """
    say = (lambda *a: None) if config.quiet else print
    say(f"Loading {DATASET_NAMES.get(config.dataset, config.dataset)} data...")
    data = load_data(config)
    # The rows stay raw (uint8 for MNIST); fit scales each batch as it gathers it (see fit's preprocess).
    preprocess = Preprocess.fit(config.scale, data.x_train, config.dtype)
    num_classes = len(data.class_names)
    # Separate streams for initialisation and shuffling, both fixed by the one --seed.
    init_rng, shuffle_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(2))
    model = build_model(config, data.x_train.shape[1], num_classes, init_rng)
    optimizer = build_optimizer(config, model)
    scheduler, transform, extra_callbacks = build_extras(config, optimizer, data)
    # Only now, with the input known good, does the run get a folder.
    run = make_run_dir(config) if resume is None else resume
    if resume is None:
        written = [atomic_write_text(run / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")]
    metrics_csv = MetricsCSV(run / "metrics.csv")
    checkpoint, state = run / "checkpoint.safetensors", None
    if resume is not None:
        written = [run / "config.json"]
        state, _ = load_training_checkpoint(checkpoint, model, optimizer, scheduler)
        for record in state.records:  # metrics.csv again holds exactly the epochs the checkpoint has
            metrics_csv.on_epoch_end(record["epoch"], record, model, optimizer)
        say(f"Resuming {run} at epoch {state.epoch + 1}, step {state.step}.")

    def save_checkpoint(train_state):
        save_training_checkpoint(checkpoint, model, optimizer, train_state, scheduler,
                                 metadata={"config": config.to_dict()})
    say(f"{len(data.x_train):,} training rows, {len(data.x_test):,} test rows ({data.test_name}); "
        f"MLP {'-'.join(map(str, [data.x_train.shape[1], *config.hidden, num_classes]))}, "
        f"{model.num_parameters():,} parameters")
    say("Starting training...")
    # Signals become a stop at the next step; overflow warnings are left to the divergence guard's sentence.
    with StopRequest() as stop, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            fit(model, build_loss(config), optimizer, data.x_train, targets_for(config, data.y_train, num_classes),
                epochs=config.epochs, batch_size=config.batch_size,
                validation_data=(data.x_test, targets_for(config, data.y_test, num_classes)), rng=shuffle_rng,
                scheduler=scheduler, preprocess=preprocess, transform=transform,
                callbacks=[*extra_callbacks, metrics_csv],
                verbose=0 if config.quiet else 1, progress=not config.quiet, state=state,
                on_checkpoint=save_checkpoint, should_stop=stop)
        except TrainingInterrupted as exc:
            print(f"Stopped by {stop.name} at epoch {exc.state.epoch + 1}, step {exc.state.step}; saved {checkpoint}. "
                  f"Resume with: numpynn train --resume {run}", file=sys.stderr)
            return 128 + stop.signum
        except TrainingDiverged as exc:
            kept = f"the checkpoint of epoch {len(metrics_csv.rows)} and metrics.csv" if metrics_csv.rows else \
                "config.json (no epoch finished)"
            raise TrainingDiverged(f"{str(exc).rstrip('.')}; {run} keeps {kept}.") from None
    written += [metrics_csv.path, checkpoint]
    for cb in extra_callbacks:
        if isinstance(cb, EarlyStopping) and cb.best_state is not None:
            say(f"Early stopping: kept the weights of epoch {cb.best_epoch} ({cb.monitor} {cb.best:.4f}).")

    # The model before the figures: it is what the run is for, and a failing plot must not cost it.
    logits = model.predict_logits(preprocess(data.x_test))
    y_pred = logits.argmax(axis=1)
    accuracy = float(np.mean(y_pred == data.y_test))
    metadata = {"config": config.to_dict(), "metrics": metrics_csv.rows[-1], "classes": data.class_names,
                "preprocessing": {"method": config.scale,
                                  "input_shape": list(data.image_shape or [data.x_train.shape[1]])}}
    written.append(save_model(run / "model.safetensors", model, metadata=metadata,
                              extra_tensors=preprocess.tensors()))
    if config.plots:
        written += write_training_plots(run, metrics_csv.rows, data, y_pred, softmax(logits, axis=1))
        if config.track_gradients:
            from . import plots
            written.append(plots.save_figure(plots.gradients_figure(metrics_csv.rows), run / "gradients.png"))
    print(f"Final Test Accuracy: {accuracy:.4f}")
    print("Wrote:\n" + "\n".join(f"  {p}" for p in written))
    return 0


def write_training_plots(run: Path, rows: list[dict], data: Data, y_pred, probs) -> list[Path]:
    from . import plots  # matplotlib takes ~0.5 s to import: only when figures are wanted
    cm = confusion_matrix(data.y_test, y_pred, len(data.class_names))
    paths = [plots.save_figure(plots.curve_figure(rows, "loss"), run / "loss.png"),
             plots.save_figure(plots.curve_figure(rows, "acc"), run / "accuracy.png"),
             plots.save_figure(plots.confusion_figure(cm, data.class_names), run / "confusion_matrix.png")]
    if data.image_shape is not None:
        images = data.x_test.reshape(len(data.x_test), *data.image_shape)
        fig = plots.mistakes_figure(images, data.y_test, y_pred, probs.max(axis=1), data.class_names)
        paths.append(plots.save_figure(fig, run / "misclassified.png"))
    return paths


# --- the command line ------------------------------------------------------------------------------------

TRAIN_EXAMPLES = """examples:
  numpynn train                                  the article's MLP on full MNIST, 20 epochs
  numpynn train --preset article                 the article's exact run (5,000 rows, 80/20 split)
  numpynn train --subset 5000 --epochs 3 --name quick
  numpynn train --hidden 512,256 --momentum 0.9 --lr 0.05
  numpynn train --config recipes/mnist-99.toml   an MLP to 99 % (1024-1024, shifts, cosine lr)
  numpynn train --optimizer adam --lr-schedule cosine --warmup-epochs 2 --dropout 0.2
  numpynn train --hidden 256,256,256 --val-split 0.1 --early-stopping 5 --track-gradients
  numpynn train --dataset fashion-mnist --epochs 10
  numpynn train --dataset my_digits.npz --val-split 0.2 --no-plots
  numpynn train --resume runs/quick              continue a run stopped by Ctrl-C
"""


def _parser_type(parse):
    """An argparse type that reports a bad value in one sentence instead of `invalid <function> value`."""
    def convert(text):
        try:
            return parse(text)
        except ValueError as exc:
            wanted = {int: "an integer", float: "a number"}.get(parse)
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}" if wanted else str(exc)) from None
    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field; unset flags stay absent so presets and config files can fill them."""
    group = parser.add_argument_group("training options (defaults: the article's MLP on full MNIST)")
    for f in fields(TrainConfig):
        meta = f.metadata
        default = f.default if f.default is not MISSING else None
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        kwargs = {"dest": f.name, "default": argparse.SUPPRESS}
        if isinstance(default, bool):
            kwargs["action"] = "store_false" if default else "store_true"
            kwargs["help"] = meta["help"]
        else:
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
            # An unset (None) default is explained by the help text itself ("unset: ...") or means "off".
            kwargs["help"] = meta["help"] if default is None else f"{meta['help']} (default: {shown})"
            choices = meta.get("choices")
            kwargs["choices"] = choices() if callable(choices) else choices
            if meta.get("parse"):
                kwargs["type"] = _parser_type(meta["parse"])
            if meta.get("metavar"):
                kwargs["metavar"] = meta["metavar"]
        group.add_argument(flag, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numpynn", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train, evaluate and use NumPy neural networks on MNIST and your own digits.",
        epilog="examples:\n  numpynn train\n  numpynn evaluate runs/NAME\n  numpynn predict runs/NAME digit.png\n"
               "  numpynn plot runs/A runs/B\n  numpynn info runs/NAME\n\n"
               "Run `numpynn COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"numpynn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name, help, examples):
        p = sub.add_parser(name, help=help, description=help, epilog=examples,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        return p

    p = command("train", "train an MLP and write a run folder (config, metrics, model, figures)", TRAIN_EXAMPLES)
    p.add_argument("--config", metavar="FILE", help="read settings from a TOML file (e.g. recipes/mnist-99.toml); "
                   "flags given beside it win")
    p.add_argument("--resume", metavar="RUN", help="continue the interrupted run in folder RUN from its "
                   "checkpoint.safetensors, with its own config.json (ends bit-identical to an unbroken run)")
    add_train_options(p)
    p.set_defaults(handler=run_train)

    model_help = "a model.safetensors file, or a run folder holding one"
    p = command("evaluate", "test accuracy, per-class precision/recall/F1 and the confusion matrix of a model",
                "examples:\n  numpynn evaluate runs/NAME\n  numpynn evaluate runs/NAME/model.safetensors "
                "--dataset data.npz --png cm.png\n")
    p.add_argument("model", metavar="MODEL", help=model_help)
    p.add_argument("--dataset", metavar="NAME|PATH", help="evaluate on this dataset instead of the training one")
    p.add_argument("--png", metavar="PATH", help="where to write the confusion matrix figure "
                   "(default: evaluation_confusion_matrix.png beside the model)")
    p.add_argument("--no-plots", dest="plots", action="store_false", help="skip the confusion matrix PNG")
    p.set_defaults(handler=commands.evaluate)

    p = command("predict", "the digit in each image (PNG/JPEG, any size, dark-on-light or light-on-dark)",
                "examples:\n  numpynn predict runs/NAME digit.png\n  numpynn predict runs/NAME *.jpg --json\n"
                "  numpynn predict runs/NAME photo.jpg --save-preprocessed seen/\n")
    p.add_argument("model", metavar="MODEL", help=model_help)
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files, one digit each")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.add_argument("--save-preprocessed", metavar="DIR", nargs="?", const=".",
                   help="write the 28x28 image the model saw, as DIR/<image>-28x28.png (default DIR: .)")
    p.set_defaults(handler=commands.predict)

    p = command("plot", "draw the loss and accuracy curves of one or more runs on one figure",
                "examples:\n  numpynn plot runs/NAME\n  numpynn train --preset article --name lr0.1\n"
                "  numpynn train --preset article --lr 1.0 --name lr1.0\n  numpynn plot runs/lr0.1 runs/lr1.0 "
                "-o lr.png\n")
    p.add_argument("runs", metavar="RUN", nargs="+", help="run folders (or their metrics.csv files)")
    p.add_argument("-o", "--output", metavar="PATH", help="PNG to write (default: comparison.png beside the runs)")
    p.set_defaults(handler=commands.plot)

    p = command("info", "architecture, parameter count, training config and final metrics of a model",
                "examples:\n  numpynn info runs/NAME\n  numpynn info runs/NAME/model.safetensors --json\n")
    p.add_argument("model", metavar="MODEL", help=model_help)
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.set_defaults(handler=commands.info)
    return parser


def run_train(args: argparse.Namespace) -> int:
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    if args.resume is not None:
        return resume_train(Path(args.resume), given, args.config)
    if args.config is not None:
        return train(resolve_config(given, read_config_file(args.config), source=args.config))
    return train(resolve_config(given))


def resume_train(run: Path, given: dict, config_file: str | None) -> int:
    """`numpynn train --resume RUN`: RUN's own config.json, continued from RUN/checkpoint.safetensors."""
    changed = sorted(set(given) - {"quiet", "plots"}) + (["config"] if config_file else [])
    if changed:
        raise ValueError(f"--resume continues {run} exactly as its config.json says; drop "
                         f"--{changed[0].replace('_', '-')} (start a new run to change settings).")
    if not (run / "checkpoint.safetensors").is_file():
        raise ValueError(f"{run} has no checkpoint.safetensors to resume from; pass a run folder that "
                         "`numpynn train` wrote (a run killed before its first checkpoint must start again).")
    try:
        values = json.loads((run / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{run / 'config.json'} is missing or unreadable; this run cannot be resumed.") from None
    if not isinstance(values, dict):
        raise ValueError(f"{run / 'config.json'} is not a numpynn run config; this run cannot be resumed.")
    return train(TrainConfig.from_dict({**values, **given}, source=str(run / "config.json")), resume=run)


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 success, 1 runtime failure, 2 bad usage or input, 130/143 interrupted (SIGINT/SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.handler(args)
    except TrainingDiverged as exc:
        return _fail(str(exc), 1)
    except (NumpynnError, ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        return _fail(str(exc), 2)
    except BrokenPipeError:  # `numpynn info ... | head`: the reader left, which is not our error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # disk full, permission denied: the environment failed, not the input
        return _fail(f"{exc.strerror or exc} ({exc.filename or 'no file'}); files written so far are kept.", 1)
    except KeyboardInterrupt:
        return _fail("interrupted; files written so far are kept.", 130)


def _fail(message: str, code: int) -> int:
    print(f"numpynn: error: {message}", file=sys.stderr)
    return code
