"""Entry point of the policy pack, run by the engine's Python language host.

The host runs this directory as a program, so the checkout that holds the `policy` package is put
on the import path first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.pack import run

run()
