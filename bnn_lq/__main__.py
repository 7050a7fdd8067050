"""``python -m bnn_lq`` is ``bnn-lq``."""

import sys

from bnn_lq.cli import main

sys.exit(main())
