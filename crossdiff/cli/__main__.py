"""``python -m crossdiff.cli``: the command line (same as the ``crossdiff`` script)."""

import sys

from . import main

sys.exit(main())
