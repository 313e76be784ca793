"""`python -m components.config [--schema | Pulumi.<stack>.yaml ...]` (components/config/cli.py)."""

import sys

from components.config.cli import main

sys.exit(main(sys.argv[1:]))
