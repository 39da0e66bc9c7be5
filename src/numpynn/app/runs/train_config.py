"""TrainConfig: every `numpynn train` option in one dataclass, which is also what config.json stores.

Each field carries its command-line help in `metadata`, so the CLI builds its options from the fields:
adding a field adds an option. Values are resolved in layers, later ones winning:
field defaults < preset < config file < command-line flags.
"""

import math
from dataclasses import asdict, dataclass, field, fields, replace

from numpynn.nn.init import INITS
from numpynn.nn.layers import ACTIVATIONS
from numpynn.nn.losses import LOSSES
from numpynn.optim.optimizers import OPTIMIZERS

SCALES = ("255", "zscore", "global", "none")
DTYPES = ("float32", "float64")
LR_SCHEDULES = ("constant", "step", "cosine")
# mlp: Linear layers (with --conv: a CNN); lstm/gru/rnn read each image row by row; vit: a Vision Transformer.
KINDS = ("mlp", "lstm", "gru", "rnn", "vit")
SEQUENCE_KINDS = ("lstm", "gru", "rnn", "vit")


def parse_hidden(text: str) -> tuple[int, ...]:
    """'256' -> (256,), '512,256' -> (512, 256), '' or 'none' -> () (no hidden layer: softmax regression)."""
    text = text.strip().lower()
    if text in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--hidden takes comma-separated layer sizes such as 256 or 512,256, got {text!r}.") from None
    return sizes


def parse_conv(text: str) -> tuple[int, ...]:
    """'32,64' -> (32, 64): one conv block per channel count; '' or 'none' -> () (no convolution: an MLP)."""
    text = text.strip().lower()
    if text in ("", "none"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--conv takes comma-separated channel counts such as 32,64, got {text!r}.") from None


def option(help: str, *, parse=None, choices=None, flag: str | None = None, metavar: str | None = None) -> dict:
    """Field metadata that the CLI turns into an argparse option (choices may be a callable, read late)."""
    return {"help": help, "parse": parse, "choices": choices, "flag": flag, "metavar": metavar}


@dataclass(frozen=True)
class TrainConfig:
    """Everything `numpynn train` needs to reproduce a run; defaults train the article's MLP on full MNIST."""

    # --- data
    dataset: str = field(default="mnist", metadata=option(
        "mnist, fashion-mnist, or a path to a .npz (x, y[, x_test, y_test]) or .csv (label first) file",
        metavar="NAME|PATH"))
    subset: int | None = field(default=None, metadata=option(
        "train on the first N training rows only (quick experiments)", parse=int, metavar="N"))
    val_split: float = field(default=0.0, metadata=option(
        "hold out this seeded fraction of the training rows and evaluate on it instead of the test set",
        parse=float, metavar="F"))
    scale: str = field(default="255", metadata=option(
        "input preprocessing: 255 (x/255), zscore (per-feature, the article's), global, none", choices=SCALES))
    mix_mnist: int = field(default=0, metadata=option(
        "add N MNIST training rows (seeded) to your digits so a fine-tuned model does not forget MNIST; your rows "
        "are repeated to weigh as much, and without test rows of your own the MNIST test set evaluates",
        parse=int, metavar="N"))
    # --- model
    hidden: tuple[int, ...] = field(default=(256,), metadata=option(
        "hidden layer sizes, comma-separated for depth (e.g. 512,256); '' for none", parse=parse_hidden,
        metavar="SIZES"))
    conv: tuple[int, ...] = field(default=(), metadata=option(
        "convolutional blocks before the hidden layers, one per channel count (e.g. 32,64): each is a KxK conv, "
        "BatchNorm2d with --batch-norm, the activation and a PxP max-pool; images enter as (N, C, H, W)",
        parse=parse_conv, metavar="CHANNELS"))
    kernel_size: int = field(default=3, metadata=option("conv kernel size K (with --conv)", parse=int, metavar="K"))
    pool: int = field(default=2, metadata=option(
        "max-pool window and stride P after each conv (with --conv; 1: no pooling)", parse=int, metavar="P"))
    kind: str = field(default="mlp", metadata=option(
        "network: mlp (with --conv, a CNN); lstm, gru or rnn read each image as a sequence of its rows (hidden size "
        "--hidden, --num-layers layers) into a Linear; vit is a Vision Transformer (--patch-size, --embed-dim, "
        "--depth, --heads, --mlp-dim)", choices=KINDS))
    num_layers: int = field(default=1, metadata=option("stacked recurrent layers (lstm, gru, rnn)", parse=int,
                                                        metavar="N"))
    patch_size: int = field(default=7, metadata=option("vit: square patch size in pixels (must divide the image)",
                                                        parse=int, metavar="P"))
    embed_dim: int = field(default=64, metadata=option("vit: width of each token", parse=int, metavar="D"))
    depth: int = field(default=4, metadata=option("vit: encoder layers (pre-norm)", parse=int, metavar="N"))
    heads: int = field(default=4, metadata=option("vit: attention heads (dividing --embed-dim)", parse=int,
                                                  metavar="H"))
    mlp_dim: int = field(default=128, metadata=option("vit: feed-forward width in each encoder layer", parse=int,
                                                      metavar="N"))
    activation: str = field(default="relu", metadata=option("hidden activation", choices=lambda: sorted(ACTIVATIONS)))
    init: str = field(default="he", metadata=option("weight initialisation", choices=lambda: sorted(INITS)))
    loss: str = field(default="cross_entropy", metadata=option("loss function", choices=lambda: sorted(LOSSES)))
    dtype: str = field(default="float32", metadata=option("floating-point precision", choices=DTYPES))
    init_from: str | None = field(default=None, metadata=option(
        "start from this trained model's weights (a run folder or model.safetensors): its architecture, classes "
        "and input scaling come with it, the optimizer starts fresh", metavar="RUN|MODEL"))
    freeze: int = field(default=0, metadata=option(
        "with --init-from: keep the first N weight layers (Linear, Conv2d, with their BatchNorm) fixed",
        parse=int, metavar="N"))
    # --- optimisation
    optimizer: str = field(default="sgd", metadata=option("optimizer", choices=lambda: sorted(OPTIMIZERS)))
    lr: float | None = field(default=None, metadata=option(
        "learning rate; unset: 0.1 for sgd (the article's), torch's default for the others (adam, adamw 1e-3; "
        "rmsprop 1e-2)", parse=float))
    momentum: float = field(default=0.0, metadata=option("SGD / RMSprop momentum", parse=float))
    nesterov: bool = field(default=False, metadata=option("Nesterov momentum (sgd with --momentum > 0)"))
    weight_decay: float | None = field(default=None, metadata=option(
        "L2 weight decay (adamw: decoupled); unset: the optimizer's torch default (0; adamw 0.01)", parse=float))
    lr_schedule: str = field(default="constant", metadata=option(
        "learning-rate schedule over the epochs, stepped once per epoch", choices=LR_SCHEDULES))
    warmup_epochs: int = field(default=0, metadata=option(
        "linear warm-up epochs before the schedule (from lr/(K+1) up to lr)", parse=int, metavar="K"))
    epochs: int = field(default=20, metadata=option("passes over the training data", parse=int, metavar="N"))
    batch_size: int = field(default=64, metadata=option("mini-batch size", parse=int, metavar="N"))
    seed: int = field(default=0, metadata=option("seed for initialisation, shuffling and splits", parse=int))
    # --- regularisation and diagnostics
    dropout: float = field(default=0.0, metadata=option(
        "dropout probability after each hidden activation (0: none)", parse=float, metavar="P"))
    batch_norm: bool = field(default=False, metadata=option(
        "BatchNorm1d after each hidden Linear layer (and BatchNorm2d after each conv with --conv)"))
    augment_shift: int = field(default=0, metadata=option(
        "shift each training image by up to this many pixels, per batch (0: none)", parse=int, metavar="PX"))
    early_stopping: int | None = field(default=None, metadata=option(
        "stop after PATIENCE epochs without a better validation loss and keep the best weights "
        "(needs --val-split)", parse=int, metavar="PATIENCE"))
    track_gradients: bool = field(default=False, metadata=option(
        "record each layer's gradient norm and update/weight ratio per epoch (metrics.csv, gradients.png)"))
    # --- output
    out: str = field(default="runs", metadata=option("folder that holds run folders", metavar="DIR"))
    name: str | None = field(default=None, metadata=option("run folder name (default: a timestamp)"))
    threads: int | None = field(default=None, metadata=option(
        "threads for BLAS and the batch-splitting layers (default: $NUMPYNN_THREADS, else 1); 1 never slows down "
        "beside other busy processes, where 2 can be several times slower (benchmarks/results/threads_entry.md)",
        parse=int, metavar="N"))
    quiet: bool = field(default=False, metadata=option("print only the final accuracy and the paths written"))
    plots: bool = field(default=True, metadata=option("skip the PNG figures", flag="--no-plots"))
    preset: str | None = field(default=None, metadata=option(
        "start from a named preset; 'article' reproduces the article's run", choices=lambda: sorted(PRESETS)))

    def __post_init__(self):
        # JSON and TOML give lists; the config stays hashable and comparable with a tuple.
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "conv", tuple(int(c) for c in self.conv))
        self.validate()

    def validate(self) -> None:
        """Refuse impossible values with one sentence naming the option and a valid example."""
        for f in fields(self):  # NaN and inf slip through every `>= 0` below (NaN fails them, inf passes)
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"--{f.name.replace('_', '-')} must be a finite number, got {value}.")
        checks = [
            (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}."),
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}."),
            (self.lr is None or self.lr > 0, f"--lr must be positive, got {self.lr}; try 0.1."),
            (self.momentum >= 0, f"--momentum must be >= 0, got {self.momentum}; try 0.9."),
            (self.weight_decay is None or self.weight_decay >= 0,
             f"--weight-decay must be >= 0, got {self.weight_decay}."),
            (self.threads is None or self.threads >= 1, f"--threads must be at least 1, got {self.threads}."),
            (self.warmup_epochs >= 0, f"--warmup-epochs must be >= 0, got {self.warmup_epochs}."),
            (self.warmup_epochs == 0 or self.warmup_epochs < self.epochs,
             f"--warmup-epochs ({self.warmup_epochs}) must be less than --epochs ({self.epochs})."),
            (0 <= self.dropout < 1, f"--dropout must be in [0, 1), got {self.dropout}; try 0.2."),
            (self.augment_shift >= 0, f"--augment-shift must be >= 0 pixels, got {self.augment_shift}; try 2."),
            (self.early_stopping is None or self.early_stopping >= 0,
             f"--early-stopping takes a patience >= 0 epochs, got {self.early_stopping}; try 5."),
            (self.early_stopping is None or self.val_split > 0,
             "--early-stopping needs a validation split to watch (never the test set); add --val-split 0.1."),
            (not self.nesterov or self.momentum > 0, "--nesterov needs --momentum > 0; try --momentum 0.9."),
            (self.subset is None or self.subset >= 2, f"--subset must be at least 2 rows, got {self.subset}."),
            (0 <= self.val_split < 1, f"--val-split must be in [0, 1), got {self.val_split}; try 0.2."),
            (type(self.seed) is int and self.seed >= 0,
             f"--seed must be a whole number >= 0, got {self.seed!r}; try 0."),
            (all(h >= 1 for h in self.hidden), f"--hidden sizes must be positive, got {list(self.hidden)}."),
            (all(c >= 1 for c in self.conv), f"--conv channel counts must be positive, got {list(self.conv)}."),
            (self.kernel_size >= 1, f"--kernel-size must be at least 1, got {self.kernel_size}; try 3."),
            (self.pool >= 1, f"--pool must be at least 1 (1: no pooling), got {self.pool}; try 2."),
            (not self.conv or self.kind == "mlp",
             f"--conv builds a CNN; it does not combine with --kind {self.kind} (drop --conv, or use --kind mlp)."),
            (self.kind not in SEQUENCE_KINDS[:3] or len(self.hidden) == 1,
             f"--kind {self.kind} takes one --hidden size (the recurrent state's width), got {list(self.hidden)}; "
             "e.g. --hidden 128."),
            (min(self.num_layers, self.patch_size, self.embed_dim, self.depth, self.heads, self.mlp_dim) >= 1,
             "--num-layers, --patch-size, --embed-dim, --depth, --heads and --mlp-dim must be at least 1."),
            (self.embed_dim % self.heads == 0,
             f"--heads ({self.heads}) must divide --embed-dim ({self.embed_dim}); e.g. --embed-dim 64 --heads 4."),
            (self.freeze >= 0, f"--freeze must be >= 0 layers, got {self.freeze}; try 1."),
            (self.freeze == 0 or self.init_from is not None,
             "--freeze keeps layers of a trained model fixed; add --init-from RUN (a run folder or model file)."),
            (self.mix_mnist >= 0, f"--mix-mnist must be >= 0 rows, got {self.mix_mnist}; try 2000."),
            (self.mix_mnist == 0 or self.dataset not in ("mnist", "fashion-mnist"),
             "--mix-mnist adds MNIST rows to your own digits; pass --dataset with your file (e.g. "
             "runs/NAME/drawings.npz)."),
            (not self.conv or self.scale != "zscore",
             "--scale zscore standardises every pixel on its own, which suits an MLP but not a convolution (one "
             "kernel slides over all pixels); use --scale global or 255 with --conv."),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        for name, allowed in (("kind", KINDS), ("scale", SCALES), ("dtype", DTYPES), ("activation", ACTIVATIONS),
                              ("init", INITS), ("loss", LOSSES), ("optimizer", OPTIMIZERS),
                              ("lr_schedule", LR_SCHEDULES)):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(sorted(allowed))}.")
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"Unknown preset {self.preset!r}; choose one of {', '.join(sorted(PRESETS))}.")

    def to_dict(self) -> dict:
        """JSON-ready values (tuples become lists)."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["conv"] = list(self.conv)
        return d

    @classmethod
    def from_dict(cls, values: dict, source: str = "the config") -> "TrainConfig":
        """Build from a dict (config.json, TOML), refusing unknown keys rather than ignoring a typo."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown setting {unknown[0]!r} in {source}; known settings: {', '.join(sorted(known))}.")
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValueError(f"A setting in {source} has the wrong type ({exc}).") from None

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)


# The article's run: the first 5,000 rows of OpenML's mnist_784 (= the first 5,000 MNIST training images),
# an 80/20 seeded split, per-feature z-score, W ~ N(0, 0.01), SGD lr 0.1, batch 64, 20 epochs.
PRESETS: dict[str, dict] = {
    "article": {"dataset": "mnist", "subset": 5000, "val_split": 0.2, "scale": "zscore", "hidden": (256,),
                "activation": "relu", "init": "normal", "loss": "cross_entropy", "optimizer": "sgd",
                "lr": 0.1, "momentum": 0.0, "weight_decay": 0.0, "epochs": 20, "batch_size": 64, "seed": 42},
}


def resolve_config(cli: dict, file_values: dict | None = None, source: str = "the config file") -> TrainConfig:
    """Defaults < preset < config file < command line; `cli` holds only the flags the user actually gave."""
    file_values = dict(file_values or {})
    preset = cli.get("preset", file_values.get("preset"))
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"Unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}.")
    merged = {**PRESETS.get(preset, {}), **file_values, **cli}
    if preset is not None:
        merged["preset"] = preset
    return TrainConfig.from_dict(merged, source)
