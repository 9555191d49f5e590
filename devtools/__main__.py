"""``python -m devtools``: the same as ``koufu-dev``."""

import sys

from devtools.cli import main

sys.exit(main())
