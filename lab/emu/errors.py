"""The error base: an emulator answers failures with the API's own codes, never invented ones.

Each API subclasses `ApiError` and says how its code is checked against the API's reference
table (`check`); an error whose code the API does not have is an emulator bug, so building one
fails loudly (ValueError) instead of reaching a client.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def reference(path: Path) -> Any:
    """A reference JSON file, read once per process."""
    return json.loads(Path(path).read_text())


class ApiError(Exception):
    """One failure as the API answers it: `code` is the API's own error code, `args` the rest."""

    code: Any

    def __init__(self, code: Any, *args: object) -> None:
        self.check(code, args)
        super().__init__(*args)
        self.code = code

    @classmethod
    def check(cls, code: Any, args: tuple[object, ...]) -> None:
        """Raise ValueError when the API has no such error (each API overrides this)."""
