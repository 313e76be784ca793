"""Storage: the Ceph pools the region needs and the S3 user and bucket CloudStack writes to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.config import CephPool, S3Settings
from components.options import child_options
from providers.ceph import Bucket, BucketArgs, Pool, PoolArgs, RgwUser, RgwUserArgs

TYPE = "privatecloud:storage:Storage"


@dataclass
class StorageArgs:
    pools: Sequence[CephPool]
    """Pools to create (VM disks presented to the XCP-ng pools through an NFS or iSCSI gateway)."""
    s3: S3Settings
    """The RGW user and bucket for CloudStack's secondary storage."""
    s3_endpoint: pulumi.Input[str]
    """The RGW endpoint clients reach S3 at."""
    allow_pool_delete: bool = False
    """Pools hold data: destroying one needs this set."""


class Storage(pulumi.ComponentResource):
    """Ceph pools, and the S3 user and bucket for secondary storage."""

    pools: dict[str, Pool]
    s3_user: RgwUser
    bucket: Bucket
    s3_endpoint: pulumi.Output[str]
    s3_bucket: pulumi.Output[str]
    s3_access_key: pulumi.Output[str]
    s3_secret_key: pulumi.Output[str]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = child_options(self, opts)
        self.pools = {
            p.name: Pool(
                f"{name}-{p.name}",
                PoolArgs(
                    name=p.name,
                    size=p.size,
                    min_size=p.min_size,
                    pg_num=p.pg_num,
                    pg_autoscale_mode="off" if p.pg_num is not None else "on",
                    application=p.application,
                    allow_delete=args.allow_pool_delete,
                ),
                child,
            )
            for p in args.pools
        }
        self.s3_user = RgwUser(
            f"{name}-user-{args.s3.user}",
            RgwUserArgs(uid=args.s3.user, display_name=f"CloudStack secondary storage ({args.s3.user})"),
            child,
        )
        self.bucket = Bucket(
            f"{name}-bucket-{args.s3.bucket}",
            BucketArgs(name=args.s3.bucket, access_key=self.s3_user.access_key, secret_key=self.s3_user.secret_key),
            child,
        )
        self.s3_endpoint = pulumi.Output.from_input(args.s3_endpoint)
        self.s3_bucket = self.bucket.id.apply(lambda _: args.s3.bucket)
        self.s3_access_key = self.s3_user.access_key
        self.s3_secret_key = pulumi.Output.secret(self.s3_user.secret_key)
        self.register_outputs(
            {"s3_endpoint": self.s3_endpoint, "s3_bucket": self.s3_bucket, "pools": list(self.pools)}
        )
