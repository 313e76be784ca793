"""The stack configuration of a region: one strict pydantic model, validated once in `__main__.py`.

Stack config follows Pulumi's conventions: everything lives in the project's namespace
(`privatecloud:`), keys are camelCase, and credentials are set with `pulumi config set --secret`
(nested ones with `--path`, e.g. `pulumi config set --secret --path privatecloud:ceph.dashboardPassword`).

| key | what |
|---|---|
| `privatecloud:region` | the region's design: servers by role, storage, hypervisor pools, the zone |
| `privatecloud:ironic` | the Ironic API endpoint |
| `privatecloud:ceph` | an existing cluster: dashboard and RGW Admin Ops endpoints and credentials |
| `privatecloud:cephBootstrap` | or: the program forms the cluster on the storage servers over SSH |
| `privatecloud:cloudstack` | management-server API endpoint, API key and secret key |
| `privatecloud:managementServer` | day 0: the admin password; the program registers its own API keys |
| `privatecloud:xcpng` | XAPI transport (https by default) and deadlines |
| `privatecloud:credentials` | secrets the program hands to resources: BMC and XCP-ng root passwords |

Every mistake the config can show is refused here, before any API call, one line each naming the
config path, the value and the reason; secret values are masked by their position (a secret field,
anything under `credentials`, and whatever holds or sits beside them), never by a key's spelling.
The file itself is read as Pulumi reads it (YAML 1.2 scalars, no object-constructing tags, no
duplicate keys, bounded alias expansion), and the engine path (`load_config`, from `__main__.py`)
refuses exactly what the CLI validator refuses:

    python -m components.config Pulumi.<stack>.yaml   # check stack files without the engine (exit 1)
    python -m components.config --schema              # print the JSON Schema

The package, by job (each module imports only those above it):

| module | what |
|---|---|
| `base` | the project's namespace, `ConfigError`, the strict base `Model`, how a config path is written |
| `tenants` | the zone's tenants (issue 15) |
| `day0` | what the program forms itself: Ceph (`cephBootstrap`), the zone's IP ranges, the management server |
| `design` | the parts of the region's design: servers, storage, hypervisor pools, the zone |
| `region` | `Region`, the design as a whole, and its cross-layer invariants |
| `stackconfig` | `StackConfig`, every section, and the checks across sections |
| `masking` | where secrets sit, how values are shown in errors, plaintext credentials |
| `stackfile` | the stack file read as Pulumi reads it, and the config's size in the program's environment |
| `load` | validation: `load`, `load_config` (the engine's path), `load_stack_file`, the namespaces |
| `cli` | the JSON Schema and `main`, which `__main__` runs |
"""

from components.config.base import PROJECT, ConfigError
from components.config.cli import json_schema, main
from components.config.design import CephPool, DeployTimeouts, HypervisorPool, Images, S3Settings, Server, Zone
from components.config.load import load, load_config, load_stack_file
from components.config.masking import is_secret_position
from components.config.stackconfig import StackConfig
from components.config.stackfile import ENV_STRING_LIMIT, env_bytes, parse_stack_file
from components.config.tenants import TenantAccount, TenantDomain, TenantLimits, Tenants

__all__ = [
    "ENV_STRING_LIMIT",
    "PROJECT",
    "CephPool",
    "ConfigError",
    "DeployTimeouts",
    "HypervisorPool",
    "Images",
    "S3Settings",
    "Server",
    "StackConfig",
    "TenantAccount",
    "TenantDomain",
    "TenantLimits",
    "Tenants",
    "Zone",
    "env_bytes",
    "is_secret_position",
    "json_schema",
    "load",
    "load_config",
    "load_stack_file",
    "main",
    "parse_stack_file",
]
