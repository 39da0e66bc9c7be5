"""`numpynn train`: its options (one flag per TrainConfig field, so a new field is a new flag) and its run.

The work itself (flags -> data, model, optimizer -> fit -> the run folder) is numpynn.app.runs.training.
"""

import argparse
from dataclasses import MISSING, fields
from pathlib import Path

from numpynn.app.runs.config_file import read_config_file
from numpynn.app.runs.train_config import PRESETS, TrainConfig, resolve_config
from numpynn.app.runs.training import resume_train, train

TRAIN_EXAMPLES = """examples:
  numpynn train                                  the article's MLP on full MNIST, 20 epochs
  numpynn train --preset article                 the article's exact run (5,000 rows, 80/20 split)
  numpynn train --subset 5000 --epochs 3 --name quick
  numpynn train --hidden 512,256 --momentum 0.9 --lr 0.05
  numpynn train --config recipes/mnist-99.toml   an MLP to 99 % (1024-1024, shifts, cosine lr)
  numpynn train --optimizer adam --lr-schedule cosine --warmup-epochs 2 --dropout 0.2
  numpynn train --hidden 256,256,256 --val-split 0.1 --early-stopping 5 --track-gradients
  numpynn train --dataset fashion-mnist --epochs 10
  numpynn train --conv 32,64 --hidden 128 --batch-norm --optimizer adam --epochs 3   a small CNN
  numpynn train --config recipes/mnist-cnn.toml  a CNN to 99.4 %
  numpynn train --dataset my_digits.npz --val-split 0.2 --no-plots
  numpynn train --resume runs/quick              continue a run stopped by Ctrl-C
  numpynn train --init-from runs/quick --dataset runs/quick/drawings.npz --mix-mnist 2000 --epochs 3 --lr 0.01
                                                 fine-tune on the digits saved from `numpynn serve`
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


def add_train_options(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One flag per TrainConfig field but `skip`; unset flags stay absent so presets and config files can fill them."""
    group = parser.add_argument_group("training options (defaults: the article's MLP on full MNIST)")
    for f in fields(TrainConfig):
        if f.name in skip:
            continue
        meta = f.metadata
        default = f.default if f.default is not MISSING else None
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        kwargs = {"dest": f.name, "default": argparse.SUPPRESS}
        if isinstance(default, bool):
            kwargs["action"] = "store_false" if default else "store_true"
            kwargs["help"] = meta["help"]
        else:
            shown = (",".join(map(str, default)) or "none") if isinstance(default, tuple) else default
            # An unset (None) default is explained by the help text itself ("unset: ...") or means "off".
            kwargs["help"] = meta["help"] if default is None else f"{meta['help']} (default: {shown})"
            choices = meta.get("choices")
            kwargs["choices"] = choices() if callable(choices) else choices
            if meta.get("parse"):
                kwargs["type"] = _parser_type(meta["parse"])
            if meta.get("metavar"):
                kwargs["metavar"] = meta["metavar"]
        group.add_argument(flag, **kwargs)


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a network and write a run folder (config, metrics, model, figures)",
                       description="train a network and write a run folder (config, metrics, model, figures)",
                       epilog=TRAIN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="FILE", help="read settings from a TOML file (e.g. recipes/mnist-99.toml); "
                   "flags given beside it win")
    p.add_argument("--resume", metavar="RUN", help="continue the interrupted run in folder RUN from its "
                   "checkpoint.safetensors, with its own config.json (ends bit-identical to an unbroken run)")
    add_train_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    if args.resume is not None:
        return resume_train(Path(args.resume), given, args.config)
    file_values = read_config_file(args.config) if args.config is not None else {}
    config = resolve_config(given, file_values, source=args.config or "the config file")
    # What the user set, however (flags, the config file, a preset): what --init-from checks against its model.
    explicit = frozenset(given) | frozenset(file_values) | frozenset(PRESETS.get(config.preset, {}))
    return train(config, explicit=explicit)
