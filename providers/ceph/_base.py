"""What the Ceph resources share: settings from the stack, lazily built clients, the lifecycle's
hooks every Ceph resource answers the same way (the retry policy, the id, adoption by it, undo)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import pulumi
from typing_extensions import override

from providers._core.lifecycle import Lifecycle, Obj
from providers._core.wait import Policy

from ._http import Dashboard, dashboard
from ._rgw import AdminOps
from .settings import Settings

C = TypeVar("C")


class CephProvider(Lifecycle[Settings, C]):
    """Holds the `<project>:ceph` settings (from `configure()`), never a client in pickled state.

    The id is the `label_field` as the API spells it (`pool_name`, `user_id`); a create adopts
    what it finds by that id (`adopt`), and with `transactional` removes again what it made
    and could not converge (best effort: else the next create adopts it)."""

    settings_model = Settings
    adopt: ClassVar[bool] = True
    transactional: ClassVar[bool] = False

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into state by reference; never carry settings or clients along.
        return {}

    @functools.cached_property
    def dashboard(self) -> Dashboard:
        return dashboard(self.settings())

    @functools.cached_property
    def rgw_admin(self) -> AdminOps:
        s = self.settings()
        return AdminOps(s.rgw_url, s.rgw_access_key, s.rgw_secret_key.get_secret_value(), s.http_timeout)

    @override
    def policy(self, client: C) -> Policy:
        return Policy(self.table.resource)

    @override
    def obj_id(self, obj: Obj) -> str:
        """The id field of an API object, or of the declared inputs."""
        field = self.table[self.label_field]
        return str(obj[field.api_name] if field.api_name in obj else obj[field.name])

    @override
    def find(self, client: C, wanted: Obj) -> Obj | None:
        return self.fetch(client, self.obj_id(wanted)) if self.adopt else None

    @override
    def undo(self, client: C, obj: Obj) -> None:
        if not self.transactional:
            return
        try:
            self.destroy(client, obj)
        except Exception as e:  # best effort: the next create adopts it by its id
            pulumi.log.warn(f"{self.table.resource} {self.obj_id(obj)}: could not remove what this create made "
                            f"({e}); the next up adopts it")


class DashboardProvider(CephProvider[Dashboard]):
    """A Ceph resource managed through the manager dashboard's REST API."""

    @override
    def client(self, props: Mapping[str, Any]) -> Dashboard:
        return self.dashboard
