"""``python -m recsys`` → :func:`recsys.cli.main`."""

import sys

from recsys.cli import main

sys.exit(main())
