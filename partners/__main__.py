"""``python -m partners``: see :mod:`partners.cli`."""

import sys

from partners.cli import main

sys.exit(main())
