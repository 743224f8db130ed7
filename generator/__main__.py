"""`python -m generator` runs the newsgen command line."""

import sys

from .cli import main

sys.exit(main())
