"""What the Ceph resources share: configuration from the stack and lazily built clients."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import ConfigureRequest

from providers._core import TableProvider, config_section

from ._http import CephConfig, Dashboard, Rgw


class CephProvider(TableProvider):
    """Holds the `<project>:ceph` config (from `configure()`), never a client in pickled state."""

    _cfg: CephConfig | None = None

    def configure(self, req: ConfigureRequest) -> None:
        self._cfg = CephConfig.from_section(config_section(req, "ceph"))
        self._clients: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into state by reference; never carry config or clients along.
        return {}

    @property
    def cfg(self) -> CephConfig:
        return self._cfg or CephConfig()

    def dashboard(self) -> Dashboard:
        self.cfg.need(self.table.resource, "dashboard_url", "dashboard_user", "dashboard_password")
        clients = self.__dict__.setdefault("_clients", {})
        if "dashboard" not in clients:
            clients["dashboard"] = Dashboard(self.cfg)
        return clients["dashboard"]

    def rgw_admin(self) -> Rgw:
        self.cfg.need(self.table.resource, "rgw_url", "rgw_access_key", "rgw_secret_key")
        clients = self.__dict__.setdefault("_clients", {})
        if "rgw" not in clients:
            clients["rgw"] = Rgw(self.cfg.rgw_url, self.cfg.rgw_access_key, self.cfg.rgw_secret_key)
        return clients["rgw"]
