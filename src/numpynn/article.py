"""`python -m numpynn.article SCRIPT.py`: the entry point; the runner lives in numpynn.cli.article.

numpynn_launcher (outside the library) starts it, so this module does not import the application itself.
"""

if __name__ == "__main__":
    from numpynn_launcher import main

    raise SystemExit(main(app="numpynn.cli.article"))
