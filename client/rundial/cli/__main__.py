"""``python -m rundial.cli``."""

import sys

from rundial.cli import main

sys.exit(main())
