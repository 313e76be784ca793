"""The region's rules as pure functions of what CrossGuard hands a policy (`policy/pack.py` wires them).

Each rule returns its violations as `(urn or None, message)`; an empty list means compliant. A
resource is a `Res` (type token, URN, inputs or outputs); stack-level rules also get the stack
config and, for the rules about what a change takes away, the resources of the last deployment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

NAMESPACE = "privatecloud-policy"
"""Stack config namespace of the pack: `production`, `enforcement`, `approvals`."""

LEVELS = ("mandatory", "advisory", "disabled")

Violation = tuple[str | None, str]


class SecretText(str):
    """A string that reached the policy as a Pulumi secret (pack.py marks them on the wire)."""

    __slots__ = ()


@dataclass(frozen=True)
class Res:
    type: str
    urn: str
    props: Mapping[str, Any]

    @property
    def kind(self) -> str:
        """`ceph:Pool` for a dynamic resource `pulumi-python:dynamic/ceph:Pool`, else the type."""
        return self.type.rsplit("/", 1)[-1] if self.type.startswith("pulumi-python:dynamic/") else self.type

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def label(self) -> str:
        """`ceph.Pool`: how the program spells the class."""
        return self.kind.replace(":", ".")


@dataclass(frozen=True)
class Settings:
    """The pack's stack config (`privatecloud-policy:*`), validated."""

    production: bool = True
    enforcement: Mapping[str, str] = field(default_factory=dict)
    eject_hosts: frozenset[str] = frozenset()
    undeploy_nodes: frozenset[str] = frozenset()


class SettingsError(ValueError):
    pass


def _names(value: Any, path: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SettingsError(f"{NAMESPACE}:{path}={value!r}: expected a list of names")
    return frozenset(value)


def parse_settings(production: Any, enforcement: Any, approvals: Any, rules: Iterable[str]) -> Settings:
    """Validate the pack's stack config values (already parsed from JSON); name field, value, reason."""
    if production is None:
        production = True
    if not isinstance(production, bool):
        raise SettingsError(f"{NAMESPACE}:production={production!r}: expected true or false")
    known = set(rules)
    enforcement = enforcement or {}
    if not isinstance(enforcement, dict):
        raise SettingsError(f"{NAMESPACE}:enforcement={enforcement!r}: expected a map of rule name to level")
    for rule, level in enforcement.items():
        if rule not in known:
            raise SettingsError(f"{NAMESPACE}:enforcement.{rule}: no such rule (rules: {', '.join(sorted(known))})")
        if level not in LEVELS:
            raise SettingsError(f"{NAMESPACE}:enforcement.{rule}={level!r}: expected one of {', '.join(LEVELS)}")
    approvals = approvals or {}
    if not isinstance(approvals, dict) or set(approvals) - {"ejectHosts", "undeployNodes"}:
        raise SettingsError(f"{NAMESPACE}:approvals={approvals!r}: expected keys ejectHosts and undeployNodes")
    return Settings(
        production=production,
        enforcement=dict(enforcement),
        eject_hosts=_names(approvals.get("ejectHosts"), "approvals.ejectHosts"),
        undeploy_nodes=_names(approvals.get("undeployNodes"), "approvals.undeployNodes"),
    )


# ------------------------------------------------------------------------- per-resource rules


def _number(value: Any) -> int | None:
    """An integer property as the engine sends it (numbers arrive as floats); None when unset."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)



def ceph_pool_durability(r: Res) -> list[Violation]:
    """Production pools keep three replicas and serve I/O only with two."""
    if r.kind != "ceph:Pool" or r.props.get("type") == "erasure":
        return []
    size, min_size = _number(r.props.get("size")), _number(r.props.get("min_size"))
    problems = []
    if size is None or size < 3:
        problems.append(f"size={size!r} (needs >= 3)")
    if min_size is None or min_size < 2:
        problems.append(f"min_size={min_size!r} (needs >= 2)")
    if not problems:
        return []
    return [(r.urn, f"ceph.Pool {r.name!r}: {', '.join(problems)}: a production pool keeps size >= 3 and "
                    "min_size >= 2, set explicitly (storage.pools[].size, minSize)")]


def ceph_pool_no_delete(r: Res) -> list[Violation]:
    """Production pools hold data: `allow_delete` stays false."""
    if r.kind == "ceph:Pool" and r.props.get("allow_delete"):
        return [(r.urn, f"ceph.Pool {r.name!r}: allow_delete=true in a production stack: a destroy or replace "
                        "would delete the pool and its data (storage.allowPoolDelete)")]
    return []


def s3_image_store_https(r: Res) -> list[Violation]:
    """S3 image stores talk HTTPS to RGW (unset use_https is CloudStack's HTTPS default)."""
    if r.kind != "cloudstack:ImageStore" or str(r.props.get("kind", "")).upper() != "S3":
        return []
    endpoint = str(r.props.get("endpoint") or "")
    scheme = urlsplit(endpoint).scheme if "://" in endpoint else ""
    if r.props.get("use_https") is False or scheme == "http":
        return [(r.urn, f"cloudstack.ImageStore {r.name!r}: S3 endpoint {endpoint!r} with "
                        f"use_https={r.props.get('use_https')!r}: S3 image stores use https")]
    return []


SECRET_KEY = re.compile(r"password|passwd|passphrase|secret|private_?key|token", re.IGNORECASE)


def _plain_leaves(value: Any, path: str) -> Iterator[str]:
    """Paths of non-empty strings under `value` that did not arrive as secrets."""
    if isinstance(value, SecretText):
        return
    if isinstance(value, str):
        if value:
            yield path
    elif isinstance(value, Mapping):
        for k in value:
            yield from _plain_leaves(_get(value, k), f"{path}.{k}")
    elif _is_list(value):
        for i, v in _elements(value):
            yield from _plain_leaves(v, f"{path}[{i}]")


def _is_list(value: Any) -> bool:
    """A list, or CrossGuard's read-only proxy of one."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _get(m: Mapping[str, Any] | Sequence[Any], k: Any) -> Any:
    try:
        return m[k]
    except Exception:  # CrossGuard raises on values unknown during preview: nothing to check yet
        return None


def _elements(seq: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """(index, element) of a list whose elements may be unknown during preview (as None)."""
    for i in range(len(seq)):
        yield i, _get(seq, i)


def _secret_named(props: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every property whose name says it holds a secret, at any depth."""
    for k in props:
        if k.startswith("__"):
            continue
        v = _get(props, k)
        p = f"{path}.{k}" if path else k
        if SECRET_KEY.search(k):
            yield p, v
        elif isinstance(v, Mapping):
            yield from _secret_named(v, p)
        elif _is_list(v):
            for i, item in _elements(v):
                if isinstance(item, Mapping):
                    yield from _secret_named(item, f"{p}[{i}]")


def plaintext_secrets(r: Res) -> list[Violation]:
    """Inputs named like secrets (password, secret_key, private_key, token...) must be Pulumi secrets."""
    leaks = sorted(leaf for p, v in _secret_named(r.props) for leaf in _plain_leaves(v, p))
    if not leaks:
        return []
    return [(r.urn, f"{r.label} {r.name!r}: plaintext secret input(s) {', '.join(leaks)}: pass them as secrets "
                    "(pulumi config set --secret, pulumi.Output.secret) so state and logs keep them encrypted")]


# ------------------------------------------------------------------------------ stack rules

ENDPOINTS = (("ironic", "endpoint"), ("ceph", "dashboardUrl"), ("ceph", "rgwUrl"), ("cloudstack", "endpoint"))


def https_endpoints(config: Callable[[str], Any]) -> list[Violation]:
    """The API endpoints a real region's stack config names use https (and XAPI is not told otherwise).

    `config(key)` returns the parsed value of `privatecloud:<key>` or None.
    """
    out: list[Violation] = []
    for section, key in ENDPOINTS:
        value = (config(section) or {}).get(key)
        if value and urlsplit(str(value)).scheme != "https":
            out.append((None, f"privatecloud:{section}.{key}={value!r}: API endpoints of real regions use https"))
    scheme = (config("xcpng") or {}).get("scheme")
    if scheme not in (None, "https"):
        out.append((None, f"privatecloud:xcpng.scheme={scheme!r}: XAPI of real regions is reached over https"))
    return out


def _by_urn(resources: Iterable[Res], kind: str) -> dict[str, Res]:
    return {r.urn: r for r in resources if r.kind == kind}


def _hosts(props: Mapping[str, Any]) -> set[str]:
    hosts = _get(props, "hosts")
    return {str(h) for _, h in _elements(hosts) if h is not None} if _is_list(hosts) else set()


def host_ejections(old: Iterable[Res], new: Iterable[Res], approved: frozenset[str]) -> list[Violation]:
    """No XCP-ng host leaves a pool (pool.eject wipes it) unless `approvals.ejectHosts` names it."""
    news = _by_urn(new, "xcpng:Pool")
    out: list[Violation] = []
    for urn, before in _by_urn(old, "xcpng:Pool").items():
        after = news.get(urn)
        if after is not None and _get(after.props, "hosts") is None:
            continue  # not known yet in this preview
        leaving = sorted(_hosts(before.props) - (_hosts(after.props) if after else set()) - approved)
        if leaving:
            how = " is destroyed:" if after is None else ":"
            out.append((urn, f"xcpng.Pool {before.name!r}{how} host(s) {', '.join(leaving)} would leave the "
                             "pool and pool.eject wipes a host; approve each with `pulumi config set --path "
                             f"{NAMESPACE}:approvals.ejectHosts[N] <address>`"))
    return out


def _deployed(props: Mapping[str, Any]) -> bool:
    return _get(props, "provision_state") == "active" or _get(props, "target_state") == "active"


def node_undeploys(old: Iterable[Res], new: Iterable[Res], approved: frozenset[str]) -> list[Violation]:
    """No deployed Ironic node is undeployed (deleted, or its target no longer `active`) unless
    `approvals.undeployNodes` names it."""
    news = _by_urn(new, "ironic:Node")
    out: list[Violation] = []
    for urn, before in sorted(_by_urn(old, "ironic:Node").items()):
        if not _deployed(before.props):
            continue
        after = news.get(urn)
        name = str(_get(before.props, "name") or before.name)
        if after is not None and _get(after.props, "target_state") in ("active", None):
            continue
        if name in approved:
            continue
        what = "is removed" if after is None else f"targets {_get(after.props, 'target_state')!r}"
        out.append((urn, f"ironic.Node {name!r} {what}: that undeploys a deployed server; approve with "
                         f"`pulumi config set --path {NAMESPACE}:approvals.undeployNodes[N] {name}`"))
    return out


OSD_STEP = re.compile(r"-osd-(?P<server>[^:]+)$")


def osd_removals(old: Iterable[Res], new: Iterable[Res]) -> list[Violation]:
    """Say, at preview, which Ceph OSDs a change takes out of the cluster (a storage server removed
    from the stack config) and what their delete step does: it is the one recorded in the last
    deployment (`CephCluster`'s `osd-<server>` command), which purges only under allowOsdPurge."""
    kept = {r.urn for r in new}
    out: list[Violation] = []
    for r in sorted(old, key=lambda r: r.urn):
        m = OSD_STEP.search(r.name)
        if r.type != "command:remote:Command" or m is None or r.urn in kept:
            continue
        osd = f"osd.{str(_get(r.props, 'stdout') or '').strip() or '?'}"
        then = ("then purges it from the cluster and wipes its store (allowOsdPurge is true)"
                if "ceph osd purge" in str(_get(r.props, "delete") or "")
                else "then stops it; it is not purged and keeps its store (allowOsdPurge is false)")
        out.append((r.urn, f"Ceph {osd} on storage server {m.group('server')!r} leaves the cluster: it is "
                           "marked out, its placement groups move to the other OSDs (bounded wait; the "
                           f"removal is refused if they cannot), {then}"))
    return out
