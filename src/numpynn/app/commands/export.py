"""`numpynn export`: a trained model as an ONNX file that takes raw pixels, for onnxruntime and friends."""

import argparse
from pathlib import Path

from numpynn.app.runs.folder import MODEL_HELP, open_model

EXAMPLES = """examples:
  numpynn export runs/NAME                      (writes runs/NAME/model.onnx)
  numpynn export runs/NAME -o digits.onnx
  numpynn export runs/NAME/model.safetensors -o model.onnx --opset 18

The ONNX graph takes raw samples (MNIST: float 0-255 pixels, shape [batch, 28, 28]) with the run's scaling
baked in, and returns logits and probabilities; its metadata names the classes and the numpynn version.
"""


def add_parser(sub) -> None:
    help = "write a model as ONNX (preprocessing included), for onnxruntime and other ONNX runtimes"
    p = sub.add_parser("export", help=help, description=help, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="RUN|MODEL", help=MODEL_HELP)
    p.add_argument("-o", "--output", metavar="PATH",
                   help="the .onnx file to write (default: model.onnx beside the model file)")
    p.add_argument("--opset", type=int, default=17,
                   help="ONNX opset version, from 17 to the newest the installed onnx and onnxruntime support "
                        "(default: 17)")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Export the model with its preprocessing, input shape and class names; print what was written."""
    from numpynn.interop.onnx_export import INPUT, LOGITS, PROBABILITIES, check_opset, export_onnx
    check_opset(args.opset)  # before loading anything: 0.2.0 wrote --opset 99 files onnxruntime refuses
    trained = open_model(args.model, door="export")
    shape = list(trained.metadata["preprocessing"].get("input_shape") or [trained.in_features])
    if trained.input_shape is not None and shape[0] == 1:  # a one-channel CNN takes (batch, H, W) as an MLP run
        shape = shape[1:]
    output = Path(args.output) if args.output else trained.path.with_suffix(".onnx")
    if output.suffix != ".onnx":
        raise ValueError(f"--output {output} should end in .onnx, e.g. -o model.onnx.")
    written = export_onnx(trained.model, output, preprocess=trained.preprocess, input_shape=shape,
                          class_names=trained.class_names, opset=args.opset)
    print(f"Wrote {written} (opset {args.opset}): input {INPUT} [batch, {', '.join(map(str, shape))}] raw values, "
          f"{trained.preprocess.method} scaling inside; outputs {LOGITS}, {PROBABILITIES} over "
          f"{len(trained.class_names)} classes")
    return 0
