"""``python -m cs231n_rs``: the ``cs231n-rs`` command."""

import sys

from .cli import main

sys.exit(main())
