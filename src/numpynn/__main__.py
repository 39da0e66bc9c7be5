"""python -m numpynn  ->  the numpynn command."""

from numpynn.cli.parser import main

raise SystemExit(main())
