"""`numpynn info`: architecture, parameter count, training config and final metrics of a model."""

import argparse
import json

from numpynn.app.runs.folder import MODEL_HELP, open_model

EXAMPLES = """examples:
  numpynn info runs/NAME
  numpynn info runs/NAME/model.safetensors --json
"""


def add_parser(sub) -> None:
    help = "architecture, parameter count, training config and final metrics of a model"
    p = sub.add_parser("info", help=help, description=help, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Architecture, parameter count, training config and final metrics of a model file."""
    trained = open_model(args.model)
    model, meta = trained.model, trained.metadata
    prep = meta["preprocessing"]
    summary = {
        "model": str(trained.path), "bytes": trained.path.stat().st_size,
        "numpynn_version": meta.get("numpynn_version"), "architecture": model.config(),
        "parameters": model.num_parameters(), "dtype": str(model.dtype), "input_features": trained.in_features,
        "input_shape": prep.get("input_shape"), "preprocessing": prep["method"], "classes": trained.class_names,
        "config": meta.get("config"), "metrics": meta.get("metrics"),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    shape = "x".join(map(str, summary["input_shape"] or [trained.in_features]))
    print(f"Model: {trained.path} ({summary['bytes']:,} bytes, numpynn {summary['numpynn_version']})")
    print(f"{model!r}")
    print(f"Parameters: {summary['parameters']:,} ({summary['dtype']})")
    print(f"Input: {trained.in_features} features ({shape}), preprocessing: {prep['method']}")
    print(f"Classes: {', '.join(trained.class_names)}")
    if isinstance(summary["config"], dict):
        print("Training config:")
        for key, value in summary["config"].items():
            print(f"  {key} = {'(default)' if value is None else value}")
    if isinstance(summary["metrics"], dict):
        print("Final metrics: " + ", ".join(f"{k} {_number(v)}" for k, v in summary["metrics"].items()))
    return 0


def _number(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)
