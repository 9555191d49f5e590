import sys

from koufu.cli import main

sys.exit(main())
