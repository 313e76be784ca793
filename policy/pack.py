"""The `privatecloud` policy pack: the rules of `policy/rules.py` as CrossGuard policies.

Run by the engine: `pulumi preview --policy-pack policy` (bin/deploy and the pull-request workflow
do). Per stack, in the stack's own config (the engine hands it to the pack):

    pulumi config set privatecloud-policy:production false            # lab stacks (default true)
    pulumi config set --path privatecloud-policy:enforcement.https-endpoints advisory
    pulumi config set --path privatecloud-policy:approvals.ejectHosts[0] 10.21.10.6
    pulumi config set --path privatecloud-policy:approvals.undeployNodes[0] sgp-cmp-06

Rules marked production-only report "not applicable" on other stacks.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pulumi
import pulumi_policy.policy as crossguard
from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from policy import rules
from policy.rules import NAMESPACE, Res, SecretText, Settings, Violation

# ---------------------------------------------------------------------- secrets stay visible
# CrossGuard unwraps secrets before a policy sees the inputs, so "this password arrived in
# plaintext" could not be told from "this password arrived as a secret". The wire format marks
# them; before CrossGuard's own deserializer runs, the strings inside a secret become SecretText
# (a str, so every other rule reads them as before).

_deserialize = crossguard.deserialize_properties


def _mark(value: Any) -> Any:
    if isinstance(value, str):
        return SecretText(value)
    if isinstance(value, list):
        return [_mark(v) for v in value]
    if isinstance(value, dict) and SPECIAL_SIG_KEY not in value:
        return {k: _mark(v) for k, v in value.items()}
    return value


def _mark_secrets(value: Any) -> Any:
    if isinstance(value, list):
        return [_mark_secrets(v) for v in value]
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG and "value" in value:
            return {**value, "value": _mark(_mark_secrets(value["value"]))}
        return {k: _mark_secrets(v) for k, v in value.items()}
    return value


def _deserialize_marking_secrets(props: dict[str, Any], proxy_secrets: bool = False) -> Any:
    return _deserialize(_mark_secrets(props), proxy_secrets)


crossguard.deserialize_properties = _deserialize_marking_secrets


# -------------------------------------------------------------------------------- settings


def _config(namespace: str, key: str) -> Any:
    raw = pulumi.Config(namespace).get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    default: str
    production_only: bool


RULES = (
    Rule("ceph-pool-durability", "Production Ceph pools keep size >= 3 and min_size >= 2", "mandatory", True),
    Rule("ceph-pool-no-delete", "Production Ceph pools keep allowDelete false", "mandatory", True),
    Rule("xcpng-host-eject-approved", "No XCP-ng host leaves a pool without approvals.ejectHosts", "mandatory", False),
    Rule("ironic-undeploy-approved", "No Ironic node is undeployed without approvals.undeployNodes", "mandatory",
         False),
    Rule("https-endpoints", "API endpoints of real regions use https", "mandatory", True),
    Rule("s3-image-store-https", "S3 image stores use https", "mandatory", True),
    Rule("no-plaintext-secrets", "No resource has a plaintext secret input", "mandatory", False),
    Rule("ceph-osd-removal", "Say which Ceph OSDs leave the cluster and whether they are purged", "advisory",
         False),
)


@cache
def settings() -> Settings:
    production = _config(NAMESPACE, "production")
    if isinstance(production, str):  # `pulumi config set ... false` stores the string
        production = {"true": True, "false": False}.get(production, production)
    return rules.parse_settings(
        production, _config(NAMESPACE, "enforcement"), _config(NAMESPACE, "approvals"), [r.name for r in RULES]
    )


def _level(rule: Rule) -> EnforcementLevel:
    level = settings().enforcement.get(rule.name, rule.default)
    return EnforcementLevel(level)


def _applies(rule: Rule, not_applicable: Callable[[str], None]) -> None:
    if rule.production_only and not settings().production:
        not_applicable(f"{NAMESPACE}:production is false for this stack")


def _report(report: ReportViolation, found: list[Violation]) -> None:
    for urn, message in found:
        report(message, urn)


# --------------------------------------------------------------------------- previous state


@cache
def previous_resources() -> list[Res]:
    """The stack's resources as last deployed (`pulumi stack export`, secrets left encrypted)."""
    org = os.environ.get("PULUMI_ORGANIZATION") or "organization"
    stack = f"{org}/{os.environ['PULUMI_PROJECT']}/{os.environ['PULUMI_STACK']}"
    proc = subprocess.run(
        ["pulumi", "stack", "export", "--stack", stack, "--non-interactive"],
        capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pulumi stack export --stack {stack} failed: {proc.stderr.strip()}")
    deployment = json.loads(proc.stdout).get("deployment") or {}
    return [
        Res(r["type"], r["urn"], {**(r.get("inputs") or {}), **(r.get("outputs") or {})})
        for r in deployment.get("resources") or []
        if r.get("custom")
    ]


# ---------------------------------------------------------------------------------- policies


def _resource_policy(rule: Rule, check: Callable[[Res], list[Violation]]) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        _applies(rule, args.not_applicable)
        _report(report, check(Res(args.resource_type, args.urn, args.props)))

    return ResourceValidationPolicy(rule.name, rule.description, validate, _level(rule))


def _stack_policy(rule: Rule, check: Callable[[StackValidationArgs], list[Violation]]) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        if rule.production_only and not settings().production:
            return  # StackValidationArgs has no not_applicable: nothing to check on this stack
        try:
            found = check(args)
        except RuntimeError as e:
            found = [(None, f"{rule.name}: cannot compare with the last deployment: {e}")]
        _report(report, found)

    return StackValidationPolicy(rule.name, rule.description, validate, _level(rule))


def _new(args: StackValidationArgs) -> list[Res]:
    return [Res(r.resource_type, r.urn, r.props) for r in args.resources]


def _privatecloud(key: str) -> Any:
    return _config("privatecloud", key)


CHECKS: Mapping[str, Callable[[Rule], ResourceValidationPolicy | StackValidationPolicy]] = {
    "ceph-pool-durability": lambda r: _resource_policy(r, rules.ceph_pool_durability),
    "ceph-pool-no-delete": lambda r: _resource_policy(r, rules.ceph_pool_no_delete),
    "s3-image-store-https": lambda r: _resource_policy(r, rules.s3_image_store_https),
    "no-plaintext-secrets": lambda r: _resource_policy(r, rules.plaintext_secrets),
    "https-endpoints": lambda r: _stack_policy(r, lambda _args: rules.https_endpoints(_privatecloud)),
    "xcpng-host-eject-approved": lambda r: _stack_policy(
        r, lambda args: rules.host_ejections(previous_resources(), _new(args), settings().eject_hosts)
    ),
    "ironic-undeploy-approved": lambda r: _stack_policy(
        r, lambda args: rules.node_undeploys(previous_resources(), _new(args), settings().undeploy_nodes)
    ),
    "ceph-osd-removal": lambda r: _stack_policy(r, lambda args: rules.osd_removals(previous_resources(), _new(args))),
}


def run() -> None:
    PolicyPack(name="privatecloud", policies=[CHECKS[r.name](r) for r in RULES])
