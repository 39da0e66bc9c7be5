"""`numpynn serve`'s service: the Starlette app, the drawings it collects, and the static page."""
