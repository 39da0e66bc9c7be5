"""The numpynn command (placeholder until the CLI lands): trains the article's MLP on bundled MNIST."""


def main(argv=None) -> int:
    raise SystemExit("numpynn: the command-line interface is not built yet.")
