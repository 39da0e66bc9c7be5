"""Training a run: TrainConfig -> data, model, optimizer -> fit -> the run folder (`numpynn train`, sweeps).

The command's options are numpynn.app.commands.train; each file in the folder is complete the moment it appears.
"""

import json
import sys
from pathlib import Path

import numpy as np

from numpynn import threads
from numpynn.app.runs.build import (
    build_extras,
    build_loss,
    build_model,
    build_optimizer,
    resolved_config,
    targets_for,
)
from numpynn.app.runs.data import Data, load_data
from numpynn.app.runs.finetune import check_data_fits, freeze, inherit, open_source, source_name
from numpynn.app.runs.folder import MetricsCSV, claim_run_dir
from numpynn.app.runs.lock import RunLock
from numpynn.app.runs.train_config import TrainConfig
from numpynn.datasets import Scaler
from numpynn.errors import TrainingDiverged, TrainingInterrupted
from numpynn.io.atomic import atomic_write_text
from numpynn.io.checkpoint import load_training_checkpoint, save_model, save_training_checkpoint
from numpynn.io.user_files import parse_nested, read_user_text
from numpynn.metrics import confusion_matrix
from numpynn.nn.functional import softmax
from numpynn.training.callbacks import EarlyStopping
from numpynn.training.divergence import LARGE_INPUT_RMS
from numpynn.training.fit import fit
from numpynn.training.signals import StopRequest
from numpynn.training.state import layer_generators

# What --resume may be given beside it: how the run looks while running, not what it computes.
RESUME_MAY_CHANGE = {"quiet", "plots", "threads"}
CONFIG_BYTES = 1024 * 1024  # a config.json is under 1 KB; a bigger one is not a run's


def resume_train(run: Path, given: dict, config_file: str | None) -> int:
    """`numpynn train --resume RUN`: RUN's own config.json, continued from RUN/checkpoint.safetensors."""
    changed = sorted(set(given) - RESUME_MAY_CHANGE) + (["config"] if config_file else [])
    if changed:
        raise ValueError(f"--resume continues {run} exactly as its config.json says; drop "
                         f"--{changed[0].replace('_', '-')} (start a new run to change settings).")
    if not run.is_dir():
        raise ValueError(f"{run} is not a run folder; pass a folder that `numpynn train` wrote, e.g. runs/NAME.")
    lock = RunLock(run).acquire()  # before reading anything: another process may be writing it right now
    try:
        return _resume_locked(run, given, lock)
    finally:
        lock.release()


def _resume_locked(run: Path, given: dict, lock: RunLock) -> int:
    has_checkpoint = (run / "checkpoint.safetensors").is_file()
    if (run / "model.safetensors").is_file():
        print(f"{run} has already finished (its model.safetensors is written); nothing to resume. Start a new "
              "run (another --name) to train longer.")
        return 0
    if not has_checkpoint and not (run / "config.json").exists():
        raise ValueError(f"{run} has no checkpoint.safetensors (nor config.json) to resume from; pass a run folder "
                         "that `numpynn train` wrote.")
    if not has_checkpoint and (run / "metrics.csv").exists():
        raise ValueError(f"{run} has a metrics.csv but no checkpoint.safetensors to resume from; it was damaged, "
                         "start a new run.")
    path = run / "config.json"
    try:  # a folder or FIFO in its place, a BOM, or 100,000 nested brackets: each one sentence (issue 26)
        values = parse_nested(json.loads, read_user_text(path, "Run config", "a JSON file", CONFIG_BYTES), str(path))
    except (OSError, json.JSONDecodeError):
        raise ValueError(f"{run / 'config.json'} is missing or unreadable; this run cannot be resumed (pass a run "
                         "folder that `numpynn train` wrote).") from None
    if not isinstance(values, dict):
        raise ValueError(f"{run / 'config.json'} is not a numpynn run config; this run cannot be resumed.")
    config = TrainConfig.from_dict({**values, **given}, source=str(run / "config.json"))
    if not has_checkpoint:  # it stopped before its first checkpoint: from the start is what an unbroken run did
        print(f"{run} stopped before its first checkpoint; starting it again from epoch 1.")
    return train(config, claimed=(run, lock), resume=has_checkpoint)


def train(config: TrainConfig, claimed: tuple[Path, RunLock] | None = None, resume: bool = False, *,
          callbacks=(), outcome: dict | None = None, explicit: frozenset[str] = frozenset()) -> int:
    """Run `config` and write its run folder; each file is complete the moment it appears.

    `callbacks` join fit's own (numpynn sweep's pruning); `outcome`, a dict, receives run and accuracy.
    With config.init_from the model, its classes and scaling come from that model (`explicit`: the settings the
    user gave, refused where they contradict it; see finetune.py).

    Every epoch ends with RUN/checkpoint.safetensors; Ctrl-C or SIGTERM adds one at the current step and
    exits 130/143. `claimed`: a run folder whose lock the caller holds; with `resume` the run continues from
    its checkpoint, bit-identically. Otherwise a new folder is claimed (and locked) once the input is known good.
    """
    say = (lambda *a: None) if config.quiet else print
    source = open_source(config) if config.init_from is not None else None
    if source is not None and not resume:  # a resumed run's config.json already holds what it took over
        config = inherit(config, source, set(explicit))
    data = load_data(config)
    say(data.summary)  # the first line: what was read (rows, features, classes) and what is held out
    for note in data.notes:
        print(f"numpynn: note: {note}", file=sys.stderr)
    # Separate streams for initialisation and shuffling, both fixed by the one --seed.
    init_rng, shuffle_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(2))
    model, preprocess, input_shape = _model_and_scaling(config, data, init_rng, source, say)
    x_train, x_test = (x if input_shape is None else x.reshape(len(x), *input_shape)
                       for x in (data.x_train, data.x_test))
    optimizer = build_optimizer(config, model)
    config = resolved_config(config, optimizer)  # before any schedule moves optimizer.lr
    scheduler, transform, extra_callbacks = build_extras(config, optimizer, data)
    # Only now, with the input known good, does the run get a folder; its lock is held until the run ends.
    run, lock = claimed if claimed is not None else claim_run_dir(config)
    try:
        with threads.limit(config.threads):  # the one thread policy (numpynn.threads)
            return _train_in(run, config, data, (x_train, x_test, input_shape), preprocess, model, optimizer,
                             scheduler, transform, extra_callbacks, shuffle_rng, resume, say,
                             callbacks=callbacks, outcome=outcome)
    finally:
        if claimed is None:
            lock.release()


def _model_and_scaling(config: TrainConfig, data: Data, init_rng, source, say) -> tuple:
    """(model, input scaling, (C, H, W) for a CNN or None): built from config, or the --init-from model's own."""
    if source is not None:
        check_data_fits(source, data, config)
        freeze(source, config)
        for i in layer_generators(source.model):  # a loaded Dropout draws from OS entropy: the run's --seed instead
            source.model.layers[int(i)].rng = init_rng.spawn(1)[0]
        frozen = "" if not config.freeze else ", its first weight layer frozen" if config.freeze == 1 else \
            f", its first {config.freeze} weight layers frozen"
        say(f"Fine-tuning the model of {source_name(source.path)}: its weights, classes and input scaling, a "
            f"fresh {config.optimizer} optimizer{frozen}.")
        return source.model, source.preprocess, source.input_shape
    # The rows stay raw (uint8 for MNIST); fit scales each batch as it gathers it (see fit's preprocess).
    preprocess = Scaler.fit(config.scale, data.x_train, config.dtype)
    # A CNN takes (N, C, H, W) images: free views of the flat rows, which the scaling and shifts handle alike.
    input_shape = data.input_shape() if config.conv or config.kind != "mlp" else None
    model = build_model(config, data.x_train.shape[1], len(data.class_names), init_rng, input_shape)
    if config.kind in ("lstm", "gru", "rnn"):  # the model unflattens rows into steps itself: it takes (N, H * W)
        input_shape = None
    return model, preprocess, input_shape


def _train_in(run, config, data, inputs, preprocess, model, optimizer, scheduler, transform, extra_callbacks,
              shuffle_rng, resume, say, *, callbacks=(), outcome=None) -> int:
    """The run proper, in its claimed folder: config.json, fit with a checkpoint per epoch, model, figures.

    inputs: (x_train, x_test, input_shape): the rows as the model takes them ((N, C, H, W) views for a CNN).
    """
    num_classes = len(data.class_names)
    x_train, x_test, input_shape = inputs
    written = [run / "config.json"] if resume else \
        [atomic_write_text(run / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")]
    metrics_csv = MetricsCSV(run / "metrics.csv", data.split)
    checkpoint, state = run / "checkpoint.safetensors", None
    if resume:
        state, _ = load_training_checkpoint(checkpoint, model, optimizer, scheduler)
        for record in state.records:  # metrics.csv again holds exactly the epochs the checkpoint has
            metrics_csv.on_epoch_end(record["epoch"], record, model, optimizer)
        say(f"Resuming {run} at epoch {state.epoch + 1}, step {state.step}.")

    def save_checkpoint(train_state):
        save_training_checkpoint(checkpoint, model, optimizer, train_state, scheduler,
                                 metadata={"config": config.to_dict()})
    say(f"{describe(config, data, input_shape, num_classes)}, {model.num_parameters():,} parameters")
    say("Starting training...")
    # Signals become a stop at the next step; overflow warnings are left to the divergence guard's sentence.
    with StopRequest() as stop, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            fit(model, build_loss(config), optimizer, x_train, targets_for(config, data.y_train, num_classes),
                epochs=config.epochs, batch_size=config.batch_size,
                validation_data=(x_test, targets_for(config, data.y_test, num_classes)), rng=shuffle_rng,
                scheduler=scheduler, preprocess=preprocess, transform=transform,
                callbacks=[*extra_callbacks, metrics_csv, *callbacks],
                verbose=0 if config.quiet else 1, progress=not config.quiet, state=state,
                validation_name=data.split_name,
                on_checkpoint=save_checkpoint, should_stop=stop)
        except TrainingInterrupted as exc:
            print(f"Stopped by {stop.name} at epoch {exc.state.epoch + 1}, step {exc.state.step}; saved "
                  f"{checkpoint}. Resume with: numpynn train --resume {run}", file=sys.stderr)
            return 128 + stop.signum
        except TrainingDiverged as exc:
            kept = f"the checkpoint of epoch {len(metrics_csv.rows)} and metrics.csv" if metrics_csv.rows else \
                "config.json (no epoch finished)"
            hint = " (here: --scale 255 for pixels, or --scale zscore)" if config.scale == "none" and \
                getattr(exc, "input_rms", 0) > LARGE_INPUT_RMS else ""
            said = TrainingDiverged(f"{str(exc).rstrip('.')}{hint}; {run} keeps {kept}.")
            said.__dict__.update(exc.__dict__)  # .epoch, .step, .lr: the sweep marks where a trial diverged
            raise said from None
    written += [metrics_csv.path, checkpoint]
    kept = metrics_csv.rows[-1]  # the epoch whose weights the model file holds, and so whose metrics it reports
    for cb in extra_callbacks:
        if isinstance(cb, EarlyStopping) and cb.best_state is not None:
            say(f"Early stopping: kept the weights of epoch {cb.best_epoch} ({cb.monitor} {cb.best:.4f}).")
            kept = next(r for r in metrics_csv.rows if r["epoch"] == cb.best_epoch)

    # The model before the figures: it is what the run is for, and a failing plot must not cost it.
    logits = model.predict_logits(preprocess(x_test))
    y_pred = logits.argmax(axis=1)
    accuracy = float(np.mean(y_pred == data.y_test))
    metadata = {"config": config.to_dict(), "metrics": kept, "classes": data.class_names,
                "preprocessing": {"method": config.scale,
                                  "input_shape": list(input_shape or data.image_shape or [data.x_train.shape[1]])}}
    written.append(save_model(run / "model.safetensors", model, metadata=metadata,
                              extra_tensors=preprocess.tensors()))
    if config.plots:
        written += write_figures(run, config, data, model, metrics_csv.rows, (y_pred, logits),
                                 preprocess(x_test[:6]), input_shape)
    if outcome is not None:
        outcome.update(run=run, accuracy=accuracy)
    print(f"Final {data.split_name} Accuracy: {accuracy:.4f}")
    print("Wrote:\n" + "\n".join(f"  {p}" for p in written))
    return 0


def write_figures(run: Path, config, data: Data, model, rows: list[dict], predictions, sample, input_shape):
    """Every figure of a run: curves, confusion, mistakes; a CNN's filters and feature maps, a ViT's attention or a
    recurrent network's steps (sample: a few scaled test inputs); the gradients with --track-gradients."""
    y_pred, logits = predictions
    written = write_training_plots(run, rows, data, y_pred, softmax(logits, axis=1))
    kind = sequence_kind(model)  # from the model, not config.kind: a fine-tuned run's model is its source's
    if kind is not None:
        written += write_sequence_plots(run, kind, model, sample, data.y_test[:len(sample)])
    elif input_shape is not None:
        written += write_cnn_plots(run, model, sample[:1])
    if config.track_gradients:
        from numpynn.app import figures as plots
        figure = plots.gradients_figure(rows, run=run.name)
        written.append(plots.save_figure(figure, run / "gradients.png"))
    return written


def write_training_plots(run: Path, rows: list[dict], data: Data, y_pred, probs) -> list[Path]:
    from numpynn.app import figures as plots  # matplotlib takes ~0.5 s to import: only when figures are wanted
    cm = confusion_matrix(data.y_test, y_pred, len(data.class_names))
    paths = [plots.save_figure(plots.curve_figure(rows, "loss", run.name), run / "loss.png"),
             plots.save_figure(plots.curve_figure(rows, "acc", run.name), run / "accuracy.png"),
             plots.save_figure(plots.confusion_figure(cm, data.class_names, run.name), run / "confusion_matrix.png")]
    if data.image_shape is not None and data.channels == 1:
        images = data.x_test.reshape(len(data.x_test), *data.image_shape)
        fig = plots.mistakes_figure(images, data.y_test, y_pred, probs.max(axis=1), data.class_names, run=run.name)
        paths.append(plots.save_figure(fig, run / "misclassified.png"))
    return paths


def write_cnn_plots(run: Path, model, image) -> list[Path]:
    """filters.png (the first conv layer's kernels) and feature_maps.png (image: (1, C, H, W) through the blocks)."""
    from numpynn.app import figures as plots
    return [plots.save_figure(plots.filters_figure(model), run / "filters.png"),
            plots.save_figure(plots.feature_maps_figure(model, image), run / "feature_maps.png")]


def describe(config, data: Data, input_shape, num_classes: int) -> str:
    """The network in one line: `MLP 784-256-10`, `CNN 1x28x28 conv 16,32 then 128-10`, `LSTM 28 steps x 28 ...`."""
    sizes = "-".join(map(str, [*config.hidden, num_classes]))
    if config.kind == "vit":
        return (f"ViT {'x'.join(map(str, input_shape))}, {config.patch_size}x{config.patch_size} patches, "
                f"{config.depth} encoder layers of width {config.embed_dim}, {config.heads} heads")
    if config.kind != "mlp":
        h, w = data.image_shape
        return (f"{config.kind.upper()} {h} steps x {w} inputs, hidden {config.hidden[0]} x {config.num_layers} "
                f"then {num_classes}")
    if input_shape is None:
        return f"MLP {data.x_train.shape[1]}-{sizes}"
    return f"CNN {'x'.join(map(str, input_shape))} conv {','.join(map(str, config.conv))} then {sizes}"


def sequence_kind(model) -> str | None:
    """'vit' for a model with attention, 'rnn' for a recurrent one, None otherwise."""
    names = {type(layer).__name__ for layer in model.layers}
    if names & {"TransformerEncoderLayer", "MultiheadAttention"}:
        return "vit"
    return "rnn" if names & {"RNN", "LSTM", "GRU"} else None


def write_sequence_plots(run: Path, kind: str, model, images, labels) -> list[Path]:
    """attention.png for a ViT (the class token's attention over the patches), steps.png for a recurrent network
    (the prediction as the rows come in), for a few test images (scaled as the model takes them)."""
    from numpynn.app import sequence_figures
    from numpynn.app.figures import save_figure
    if kind == "vit":
        return [save_figure(sequence_figures.attention_figure(model, images, labels), run / "attention.png")]
    return [save_figure(sequence_figures.steps_figure(model, images, labels), run / "steps.png")]
