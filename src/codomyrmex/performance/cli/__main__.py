"""``python -m codomyrmex.performance.cli``: the same as ``codomyrmex-perf``."""

import sys

from codomyrmex.performance.cli import main

sys.exit(main())
