"""python -m numpynn  ->  the numpynn command."""

from .cli import main

raise SystemExit(main())
