"""`python -m numpynn.article SCRIPT.py`: the entry point; the runner lives in numpynn.cli.article."""

from numpynn.cli.article import main

if __name__ == "__main__":
    raise SystemExit(main())
