"""The region program: validate the stack config once, then declare the region.

Every problem in the config is reported with its config path before any API call is made; the
program then declares one `Region` whose outputs are the stack's.
"""

import pulumi

from components.config import PROJECT, ConfigError, StackConfig, load
from components.region import Region


def read_config() -> StackConfig:
    """The stack config as one typed model (secrets decrypted into SecretStr, never exported)."""
    keys = [f.alias or name for name, f in StackConfig.model_fields.items()]
    raw = {k: v for k in keys if (v := pulumi.runtime.get_config(f"{PROJECT}:{k}")) is not None}
    try:
        return load(raw)
    except ConfigError as e:
        for problem in e.problems:
            pulumi.log.error(f"config {PROJECT}:{problem}")
        raise pulumi.RunError(f"the stack config has {len(e.problems)} problem(s); see above") from None


cfg = read_config()
region = Region(cfg.region.name, cfg)

pulumi.export("zoneId", region.cloud.zone_id)
pulumi.export(
    "endpoints",
    {
        "ironic": cfg.ironic.endpoint,
        "cephDashboard": cfg.ceph.dashboard_url,
        "s3": cfg.ceph.rgw_url,
        "cloudstack": cfg.cloudstack.endpoint,
    },
)
pulumi.export("s3Bucket", region.storage.s3_bucket)
pulumi.export("nodes", region.baremetal.node_uuids)
pulumi.export("pools", {name: {"master": p.master_url, "hosts": p.host_addresses} for name, p in region.pools.items()})
pulumi.export("cloudstackHosts", region.cloud.host_ids)
if region.cloud.connection is not None:  # the keys the program registered itself (secret)
    pulumi.export("cloudstack", region.cloud.connection)
