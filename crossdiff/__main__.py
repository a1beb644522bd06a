"""``python -m crossdiff``: the command line (same as the ``crossdiff`` script)."""

import sys

from .cli import main

sys.exit(main())
