"""The handler registry: one API name -> one handler, each name checked when it is registered."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

H = TypeVar("H")


class Registry(Mapping[str, H], Generic[H]):
    """Handlers by API name. `check(name)` returns why a name is not in the API (None when it is);
    registering such a name, or a name twice, raises at import time instead of at the first call."""

    def __init__(self, what: str, check: Callable[[str], str | None] | None = None) -> None:
        self.what = what
        self._check = check
        self._handlers: dict[str, H] = {}

    def add(self, name: str, handler: H) -> H:
        why = self._check(name) if self._check is not None else None
        if why is not None:
            raise ValueError(f"{name}: {why}")
        if name in self._handlers:
            raise ValueError(f"{name}: a {self.what} handler is already registered")
        self._handlers[name] = handler
        return handler

    def __call__(self, name: str) -> Callable[[H], H]:
        """Decorator form: `@registry("pool.join")`."""

        def register(handler: H) -> H:
            return self.add(name, handler)

        return register

    def __getitem__(self, name: str) -> H:
        return self._handlers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)
