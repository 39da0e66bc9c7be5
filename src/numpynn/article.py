"""`python -m numpynn.article SCRIPT.py`: the entry point; the runner is numpynn.app.commands.article.

numpynn_launcher (outside the library) starts it; this module is one of the layout test's two named exemptions.
"""

if __name__ == "__main__":
    from numpynn_launcher import article

    raise SystemExit(article())
