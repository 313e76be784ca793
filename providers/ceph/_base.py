"""What the Ceph resources share: settings from the stack and lazily built clients."""

from __future__ import annotations

from typing import Any, cast

from providers._core import Provider

from ._http import Dashboard
from ._rgw import AdminOps
from .settings import Settings


class CephProvider(Provider[Settings]):
    """Holds the `<project>:ceph` settings (from `configure()`), never a client in pickled state."""

    settings_model = Settings

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into state by reference; never carry settings or clients along.
        return {}

    def _clients(self) -> dict[str, Any]:
        clients: dict[str, Any] = self.__dict__.setdefault("_client_cache", {})
        return clients

    def dashboard(self) -> Dashboard:
        clients = self._clients()
        if "dashboard" not in clients:
            clients["dashboard"] = Dashboard(self.settings())
        return cast(Dashboard, clients["dashboard"])

    def rgw_admin(self) -> AdminOps:
        clients = self._clients()
        if "rgw" not in clients:
            s = self.settings()
            clients["rgw"] = AdminOps(s.rgw_url, s.rgw_access_key, s.rgw_secret_key.get_secret_value())
        return cast(AdminOps, clients["rgw"])
