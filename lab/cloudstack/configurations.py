"""Global settings: `listConfigurations`, `updateConfiguration`, `resetConfiguration`.

A setting has a scope (global, zone, cluster, storagepool, account, domain): a scoped value is
set with the scope's id (`zoneid=...`) and overrides the global value for that scope only; a
setting is `isdynamic` when a change takes effect without restarting the management server.
`SETTINGS` is a subset of 4.18's defaults (ConfigKey declarations and the Config enum).

Rules and texts from ConfigurationManagerImpl.updateConfiguration / validateConfigurationValue /
resetConfiguration and ManagementServerImpl.searchForConfigurations (`name` matches as SQL LIKE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.objects import Cluster, Zone, drop_none
from lab.cloudstack.store import Store


@dataclass(frozen=True)
class Setting:
    name: str
    category: str
    default: str | None
    type: str  # Boolean, Integer, Long, Float, String
    scope: str  # Global, Zone, Cluster, ...
    dynamic: bool
    description: str
    component: str = "management-server"


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "Advanced", "localhost", "String", "Global", False,
            "The ip address of management server. This can also accept comma separated addresses."),
    Setting("management.network.cidr", "Advanced", None, "String", "Global", False,
            "The cidr of management server network"),
    Setting("expunge.delay", "Advanced", "86400", "Integer", "Global", False,
            "Determines how long (in seconds) to wait before actually expunging destroyed vm. The default value = "
            "the default value of expunge.interval"),
    Setting("expunge.interval", "Advanced", "86400", "Integer", "Global", False,
            "The interval (in seconds) to wait before running the expunge thread."),
    Setting("secstorage.allowed.internal.sites", "Advanced", None, "String", "Global", False,
            "Comma separated list of cidrs internal to the datacenter that can host template download servers, "
            "please note 0.0.0.0 is not a valid site"),
    Setting("system.vm.use.local.storage", "Advanced", "false", "Boolean", "Zone", False,
            "Indicates whether to use local storage pools or shared storage pools for system VMs."),
    Setting("router.template.xenserver", "Advanced", "SystemVM Template (XenServer)", "String", "Zone", True,
            "Name of the default router template on Xenserver."),
    Setting("network.throttling.rate", "Network", "200", "Integer", "Zone", True,
            "Default data transfer rate in megabits per second allowed in network."),
    Setting("enable.dynamic.scale.vm", "Advanced", "false", "Boolean", "Zone", True,
            "Enables/Disables dynamically scaling a vm"),
    Setting("cpu.overprovisioning.factor", "Advanced", "1.0", "Float", "Cluster", True,
            "Used for CPU overprovisioning calculation; available CPU will be (actualCpuCapacity * "
            "cpu.overprovisioning.factor)"),
    Setting("mem.overprovisioning.factor", "Advanced", "1.0", "Float", "Cluster", True,
            "Used for memory overprovisioning calculation"),
    Setting("consoleproxy.session.max", "Console Proxy", "50", "Integer", "Global", False,
            "The max number of viewer sessions console proxy is configured to serve for"),
)

# updateConfiguration's scope parameters, by the scope they name.
SCOPE_PARAMS = {"zoneid": "Zone", "clusterid": "Cluster", "storageid": "StoragePool", "accountid": "Account",
                "domainid": "Domain", "imagestoreuuid": "ImageStore"}


class Configurations:
    """Global values (changed from the defaults) and scoped values by (scope, id)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.globals: dict[str, str | None] = {}
        self.scoped: dict[tuple[str, str, str], str] = {}  # (name, scope, scope id) -> value

    def setting(self, name: str) -> Setting:
        found = next((s for s in SETTINGS if s.name == name), None)
        if found is None:
            raise errors.invalid_parameter(f"Config parameter with name {name} doesn't exist")
        return found

    def value(self, s: Setting, scope_id: str | None = None) -> str | None:
        """A scoped value, else the global one, else the default (ConfigKey.valueIn)."""
        if scope_id is not None and (s.name, s.scope, scope_id) in self.scoped:
            return self.scoped[(s.name, s.scope, scope_id)]
        return self.globals.get(s.name, s.default)

    def _scope_of_call(self, p: dict[str, Any], s: Setting) -> str | None:
        given = [k for k in SCOPE_PARAMS if p.get(k) is not None]
        if len(given) > 1:
            raise errors.invalid_parameter("cannot handle multiple IDs, provide only one ID corresponding to the scope")
        if not given:
            return None
        if SCOPE_PARAMS[given[0]] != s.scope:
            raise errors.invalid_parameter(f"Invalid scope id provided for the parameter {s.name}")
        uid = str(p[given[0]])
        kind = {"Zone": Zone, "Cluster": Cluster}.get(s.scope)
        if kind is not None and self.store.get(kind, uid) is None:
            raise errors.invalid_parameter(f"unable to find {s.scope.lower()} by id {uid}")
        return uid

    @staticmethod
    def _validate(s: Setting, value: str) -> None:
        """validateConfigurationValue: the value must parse as the setting's type."""
        if s.type == "Boolean" and value not in ("true", "false"):
            raise errors.invalid_parameter("Please enter either 'true' or 'false'.")
        try:
            if s.type in ("Integer", "Long"):
                int(value)
            elif s.type == "Float":
                float(value)
        except ValueError:
            kind = "integer" if s.type in ("Integer", "Long") else "float"
            raise errors.invalid_parameter(
                f"There was an error trying to parse the {kind} value for configuration parameter: {s.name}"
            ) from None

    def update(self, p: dict[str, Any]) -> dict[str, Any]:
        s = self.setting(p["name"])
        scope_id = self._scope_of_call(p, s)
        value = p.get("value")
        if value is not None:
            value = value.strip()
            self._validate(s, value)
            if scope_id is None:
                self.globals[s.name] = value
            else:
                self.scoped[(s.name, s.scope, scope_id)] = value
        return self.to_api(s, scope_id)

    def reset(self, p: dict[str, Any]) -> dict[str, Any]:
        """resetConfiguration: a scoped value goes (the scope inherits again); a global one is the default."""
        s = self.setting(p["name"])
        scope_id = self._scope_of_call({k: v for k, v in p.items() if k in SCOPE_PARAMS}, s)
        if scope_id is None:
            self.globals.pop(s.name, None)
        else:
            self.scoped.pop((s.name, s.scope, scope_id), None)
        return self.to_api(s, scope_id)

    def listed(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        """With a scope id: the settings of that scope, with their value there."""
        key = next((k for k in SCOPE_PARAMS if p.get(k) is not None), None)
        scope_id = None if key is None else str(p[key])
        found = [s for s in SETTINGS if key is None or s.scope == SCOPE_PARAMS[key]]
        if p.get("name"):
            found = [s for s in found if p["name"].lower() in s.name.lower()]
        if p.get("category"):
            found = [s for s in found if s.category.lower() == p["category"].lower()]
        if p.get("keyword"):
            found = [s for s in found if p["keyword"].lower() in s.name.lower()]
        return [self.to_api(s, scope_id) for s in found]

    def to_api(self, s: Setting, scope_id: str | None) -> dict[str, Any]:
        """ConfigurationResponse: the setting's scope always; a scoped answer also the scope's id."""
        return drop_none({
            "category": s.category, "name": s.name, "value": self.value(s, scope_id), "defaultvalue": s.default,
            "description": s.description, "isdynamic": s.dynamic, "component": s.component, "type": s.type,
            "scope": s.scope.lower(), "id": scope_id,
        })
