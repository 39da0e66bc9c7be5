"""`numpynn check FILE.py`: grade your own neural_network.py, function by function, against numpynn's."""

import argparse

from numpynn.app.check.cases import NAMES

EXAMPLES = """examples:
  numpynn check my_neural_network.py
  numpynn check my_neural_network.py --only backward_mlp
  numpynn check my_neural_network.py --json

It RUNS THE CODE IN FILE (importing it, then calling its functions), in a separate Python process with a time
limit per function: check only files you trust. Exit status: 0 when every function found passes, 1 when one
fails, 2 for bad usage (no such file, a syntax error, an error on import, none of the series' functions).
"""


def add_parser(sub) -> None:
    help = "grade your own implementation of the series' functions against numpynn's (runs FILE's code)"
    p = sub.add_parser("check", help=help, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Grade each of the series' 21 functions that FILE defines (normalize, ..., "
                                   "backward_mlp, ..., accuracy) against numpynn's neural_network: values, shapes "
                                   "and dtypes on random inputs and edge cases, backward functions against "
                                   "numerical gradients, inputs left unchanged; each failure gets a one-line hint.")
    p.add_argument("file", metavar="FILE.py", help="your neural_network.py (its code is run, in a child process)")
    p.add_argument("--only", metavar="NAME", action="append", choices=NAMES,
                   help="grade only this function (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    p.add_argument("--timeout", metavar="SECONDS", type=float, default=10.0,
                   help="time limit per function, and for importing FILE (default: 10)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Grade the file; print the table (or JSON); 0 when every function found passes, else 1."""
    from numpynn.app.check.report import as_json, as_table
    from numpynn.app.check.sandbox import check_file

    if args.timeout <= 0:
        raise ValueError(f"--timeout {args.timeout:g} is not positive; give the seconds each function may take.")
    report = check_file(args.file, args.only, args.timeout)
    print(as_json(report) if args.json else as_table(report))
    return 0 if all(ok for ok, _ in report.results.values()) else 1
