"""python -m numpynn  ->  the numpynn command (started by numpynn_launcher, outside the library)."""

from numpynn_launcher import main

raise SystemExit(main())
