"""``python -m recist`` works like the ``recist`` command."""

import sys

from recist.cli import main

sys.exit(main())
