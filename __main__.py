"""The region program: validate the stack config once, then declare the region.

Every problem in the config is reported with its config path before any API call is made; the
program then declares one `Region` whose outputs are the stack's.
"""

import gc
import os

import pulumi
from pulumi.runtime import config as runtime_config

from components.prestart import start_dynamic_provider

# Before the program's own imports: the engine starts the dynamic-provider process (and its
# imports) meanwhile, rather than at the first dynamic resource (components/prestart.py).
start_dynamic_provider()

# What the program makes lives until it ends: collect cyclic garbage every 100,000 allocations
# rather than CPython's 700, or the collector walks the growing heap again and again (a no-op
# preview of 529 resources: the collector 0.96 -> 0.14 CPU s, the program 5.02 -> 4.12, peak
# memory the same; README, Benchmarks).
gc.set_threshold(100_000, 50, 100)

from components.config import ConfigError, StackConfig, load_config  # noqa: E402
from components.cycles import faster_cycle_check  # noqa: E402
from components.region import Region  # noqa: E402
from components.sdklog import log_without_waiting  # noqa: E402


def read_config() -> StackConfig:
    """The stack config as one typed model (secrets decrypted into SecretStr, never exported).

    Every key the engine hands the program is validated, other namespaces included, with the same
    checks as `python -m components.config`; the stack file beside the program adds what only the
    file shows (plaintext where a credential should be `secure:`)."""
    config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {k for k in config if runtime_config.is_config_secret(k)}
    secret_keys |= set(runtime_config.get_config_secret_keys_env())
    stack_file = f"Pulumi.{pulumi.get_stack()}.yaml"
    try:
        return load_config(config, secret_keys=secret_keys,
                           stack_file=stack_file if os.path.exists(stack_file) else None)
    except ConfigError as e:
        for problem in e.problems:
            pulumi.log.error(f"stack config: {problem}")
        raise pulumi.RunError(f"the stack config has {len(e.problems)} problem(s); see above") from None


cfg = read_config()
faster_cycle_check()  # the SDK's cycle check walks every node for each later dependency
log_without_waiting()  # the SDK's debug messages, 4-5 per registration, each a round trip on the event loop
region = Region(cfg.region.name, cfg)

pulumi.export("zoneId", region.cloud.zone_id)
pulumi.export(
    "endpoints",
    {
        "ironic": cfg.ironic.endpoint,
        "cephDashboard": region.ceph_dashboard_url,
        "s3": region.storage.s3_endpoint,
        "cloudstack": cfg.cloudstack.endpoint,
    },
)
pulumi.export("s3Bucket", region.storage.s3_bucket)
if region.ceph is not None:
    pulumi.export("ceph", {"fsid": region.ceph.fsid, "monitors": region.ceph.mon_addresses,
                           "dashboard": region.ceph.dashboard_url, "rgw": region.ceph.rgw_url})
pulumi.export("nodes", region.baremetal.node_uuids)
pulumi.export("pools", {name: {"master": p.master_url, "hosts": p.host_addresses} for name, p in region.pools.items()})
pulumi.export("cloudstackHosts", region.cloud.host_ids)
if region.cloud.connection is not None:  # the keys the program registered itself (secret)
    pulumi.export("cloudstack", region.cloud.connection)
