"""python -m numpynn  ->  the numpynn command (started by numpynn_launcher, outside the library).

One of the layout test's two named exemptions: Python needs a `-m` entry module inside the package.
"""

from numpynn_launcher import main

raise SystemExit(main())
