"""`python -m dragoman`: the same as the `dragoman` command (and what Briefcase starts)."""

import sys

from dragoman.launcher import main

sys.exit(main())
