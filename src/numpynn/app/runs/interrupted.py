"""An interrupted run as a model: its last checkpoint, with what the model file would have held rebuilt.

A run stopped by Ctrl-C (or still training) has checkpoint.safetensors and no model.safetensors yet. The
checkpoint holds the weights and the run's config; the config rebuilds the rest exactly as training made it:
the classes and, from the same training rows, the input scaling (z-score statistics included).
"""

import json
import sys
from pathlib import Path

from numpynn.app.runs.data import load_data
from numpynn.app.runs.train_config import TrainConfig
from numpynn.datasets import Scaler
from numpynn.errors import CheckpointError
from numpynn.io.checkpoint import load_model
from numpynn.training.state import TrainState

CHECKPOINT = "checkpoint.safetensors"


def open_checkpoint(run: Path):
    """RUN/checkpoint.safetensors as a TrainedModel, saying so on stderr: (path, model, scaling, config, ...)."""
    from numpynn.app.runs.folder import TrainedModel

    path = run / CHECKPOINT
    model, meta = load_model(path)
    try:
        config = TrainConfig.from_dict(meta["config"], f"{path}'s metadata")
        state = TrainState.from_json(json.dumps(meta["train_state"]))  # load_model hands it back decoded
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(f"{path} does not record the run's config and progress, so it cannot stand in for "
                              f"the missing {run / 'model.safetensors'}; resume the run to finish it.") from None
    data = load_data(config)
    scaling = Scaler.fit(config.scale, data.x_train, config.dtype)  # the rows training learned it from
    input_shape = data.input_shape() if config.conv else None
    done = state.records[-1] if state.records else None
    metadata = {**meta, "config": config.to_dict(), "metrics": done, "classes": data.class_names,
                "preprocessing": {"method": config.scale,
                                  "input_shape": list(input_shape or data.image_shape or [data.x_train.shape[1]])}}
    print(f"numpynn: note: {run} has no model.safetensors (the run was stopped, or is still training); using its "
          f"last checkpoint, {path} (after {state.epoch} of {config.epochs} epochs{_steps(state)}). Finish it with: "
          f"numpynn train --resume {run}", file=sys.stderr)
    return TrainedModel(path, model, scaling, config, metadata, data.class_names, input_shape)


def _steps(state: TrainState) -> str:
    return f" and {state.step} steps" if state.step else ""
