"""Domain, Account, User, ResourceLimit, ComputeOffering, DiskOffering, NetworkOffering, Template
and Iso against the emulator: the choreography (create, adopt, read, update, drift, delete),
replacements at preview, secrets, the bounded wait on a template download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cs import CloudStack

from providers._core import Permanent, Timeout
from providers.cloudstack.offerings import ComputeOfferingProvider, DiskOfferingProvider, NetworkOfferingProvider
from providers.cloudstack.settings import Settings
from providers.cloudstack.templates import IsoProvider, TemplateProvider
from providers.cloudstack.tenants import (
    AccountArgs,
    AccountProvider,
    DomainProvider,
    ResourceLimitProvider,
    RoleProvider,
    UserArgs,
    UserProvider,
)
from tests.cloudstack.choreography import choreography, commands, normalised

FIRST_USER = {"username": "alice", "first_name": "Alice", "last_name": "Tenant", "email": "alice@example.com",
              "password": "alice-pw-1"}


@pytest.fixture
def domain_id(raw: CloudStack) -> str:
    return str(raw.createDomain(name="reseller-a")["domain"]["id"])


@pytest.fixture
def account(raw: CloudStack, domain_id: str) -> dict[str, Any]:
    return dict(raw.createAccount(domainid=domain_id, account="customer-1", username="carol", firstname="C",
                                  lastname="T", email="c@example.com", password="pw", accounttype=0)["account"])


def _job(cs_lab: Any, raw: CloudStack, command: str, **params: Any) -> None:
    answer = getattr(raw, command)(**params)
    cs_lab.jobs.advance(answer["jobid"])


def test_domain_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any]) -> None:
    domains = configured(DomainProvider)
    outcome = choreography(
        domains, {"name": "reseller-a", "network_domain": "a.example"},
        create_command="createDomain",
        update={"name": "reseller-b", "network_domain": "b.example"},
        out_of_band=lambda i: raw.updateDomain(id=i, networkdomain="x.example"),
        drifted=["network_domain"],
        log=cs_lab.request_log,
    )
    assert outcome.id not in {d["id"] for d in raw.listDomains(listall=True)["domain"]}
    parent = domains.create(normalised(domains, {"name": "reseller"}))
    child = domains.create(normalised(domains, {"name": "sub", "parent_id": parent.id}))
    assert child.outs["path"] == "ROOT/reseller/sub" and child.outs["level"] == 2
    moved = domains.diff(child.id, child.outs, normalised(domains, {"name": "sub", "parent_id": "other"}))
    assert moved.replaces == ["parent_id"] and moved.delete_before_replace


def test_account_choreography_and_its_secret(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                             domain_id: str) -> None:
    accounts = configured(AccountProvider)

    def rename_user(account_id: str) -> None:
        user = raw.listAccounts(id=account_id, listall=True)["account"][0]["user"][0]
        raw.updateUser(id=user["id"], firstname="Mallory")

    outcome = choreography(
        accounts, {"domain_id": domain_id, "name": "customer-1", **FIRST_USER},
        create_command="createAccount",
        update={"email": "alice@example.org", "network_domain": "c1.example", "password": "alice-pw-2"},
        out_of_band=rename_user,
        drifted=["first_name"],
        log=cs_lab.request_log,
        delete=False,
    )
    assert AccountArgs.table().secrets == ["password"]
    account = raw.listAccounts(id=outcome.id, listall=True)["account"][0]
    assert (account["roletype"], account["networkdomain"]) == ("User", "c1.example")
    assert cs_lab.backend.tenants.user(outcome.outputs["user_id"]).password == "alice-pw-2"
    plan = accounts.diff(outcome.id, outcome.outputs, {**outcome.inputs, "account_type": "DomainAdmin"})
    assert plan.replaces == ["account_type"]
    accounts.delete(outcome.id, outcome.outputs)
    accounts.delete(outcome.id, outcome.outputs)
    assert accounts.read(outcome.id, outcome.outputs).id == ""
    # vanished: the next create makes it again
    again = accounts.create(outcome.inputs)
    assert again.id != outcome.id and commands(cs_lab.request_log, "createAccount") == 2


def test_role_choreography_and_an_account_with_it(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                                  domain_id: str) -> None:
    roles = configured(RoleProvider)
    outcome = choreography(
        roles, {"name": "Support", "type": "User", "description": "read-mostly"},
        create_command="createRole",
        update={"name": "Customer Support", "description": "tickets"},
        out_of_band=lambda i: raw.updateRole(id=i, description="edited"),
        drifted=["description"],
        log=cs_lab.request_log,
        delete=False,
    )
    assert roles.diff(outcome.id, outcome.outputs, {**outcome.inputs, "type": "DomainAdmin"}).replaces == ["type"]
    accounts = configured(AccountProvider)
    account = accounts.create(normalised(accounts, {"domain_id": domain_id, "name": "support-1",
                                                    "role_id": outcome.id, **FIRST_USER}))
    assert raw.listAccounts(id=account.id, listall=True)["account"][0]["rolename"] == "Customer Support"
    # a role in use is not deleted (CloudStack's refusal, named)
    with pytest.raises(Permanent) as in_use:
        roles.delete(outcome.id, outcome.outputs)
    assert "Role is in use by an account" in in_use.value.message
    accounts.delete(account.id, account.outs)
    roles.delete(outcome.id, outcome.outputs)
    assert roles.read(outcome.id, outcome.outputs).id == ""


def test_user_choreography_and_its_keys(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                        account: dict[str, Any]) -> None:
    users = configured(UserProvider)
    props = {"domain_id": account["domainid"], "account": "customer-1", "username": "api", "first_name": "API",
             "last_name": "Robot", "email": "api@example.com", "password": "robot-pw"}
    outcome = choreography(
        users, props,
        create_command="createUser",
        update={"email": "robot@example.com", "last_name": "Automaton"},
        out_of_band=lambda i: raw.updateUser(id=i, lastname="Human"),
        drifted=["last_name"],
        log=cs_lab.request_log,
        delete=False,
    )
    assert set(UserArgs.table().secrets) == {"password", "api_key", "secret_key"}
    keys = outcome.outputs
    tenant = CloudStack(endpoint=cs_lab.endpoint, key=keys["api_key"], secret=keys["secret_key"])
    (mine,) = tenant.listAccounts()["account"]
    assert mine["name"] == "customer-1"
    # keys are registered once: creating again (adoption) keeps the same pair
    assert commands(cs_lab.request_log, "registerUserKeys") == 1
    users.delete(outcome.id, outcome.outputs)
    assert users.read(outcome.id, outcome.outputs).id == ""


@pytest.mark.usefixtures("account")
def test_resource_limit_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                     domain_id: str) -> None:
    limits = configured(ResourceLimitProvider)
    outcome = choreography(
        limits, {"domain_id": domain_id, "resource_type": "instances", "max": 10},
        create_command="updateResourceLimit",
        update={"max": 20},
        out_of_band=lambda _i: raw.updateResourceLimit(domainid=domain_id, resourcetype=0, max=5),
        drifted=["max"],
        log=cs_lab.request_log,
        delete=False,
    )
    assert outcome.id == f"{domain_id}//instances"
    per_account = limits.create(normalised(limits, {"domain_id": domain_id, "account": "customer-1",
                                                    "resource_type": "instances", "max": 2}))
    (limit,) = raw.listResourceLimits(domainid=domain_id, account="customer-1", resourcetype=0)["resourcelimit"]
    assert limit["max"] == 2
    with pytest.raises(Permanent) as over:
        limits.update(per_account.id, per_account.outs, {**per_account.outs, "max": 30})
    assert "has maximum allowed resource limit 20 for user_vm" in over.value.message
    # deleted: an account's limit goes back to its domain's, a domain's to unlimited
    limits.delete(per_account.id, per_account.outs)
    assert raw.listResourceLimits(domainid=domain_id, account="customer-1", resourcetype=0)["resourcelimit"][0][
        "max"] == 20
    limits.delete(outcome.id, outcome.outputs)
    assert raw.listResourceLimits(domainid=domain_id, resourcetype=0)["resourcelimit"][0]["max"] == -1
    # checked before CloudStack is asked
    bad = limits.check({}, {"domain_id": domain_id, "resource_type": "gpus", "max": -2})
    assert sorted(f.property for f in bad.failures) == ["max", "resource_type"]


def test_compute_offering_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any]) -> None:
    offerings = configured(ComputeOfferingProvider)
    outcome = choreography(
        offerings, {"name": "small", "display_text": "1 vCPU 1 GiB", "cpu_number": 1, "cpu_speed": 1000,
                    "memory": 1024, "host_tags": "gold"},
        create_command="createServiceOffering",
        update={"display_text": "1 vCPU, 1 GiB", "host_tags": "silver", "storage_tags": "ceph"},
        out_of_band=lambda i: raw.updateServiceOffering(id=i, displaytext="edited"),
        drifted=["display_text"],
        log=cs_lab.request_log,
        delete=False,
    )
    bigger = {**outcome.inputs, "memory": 2048, "cpu_number": 2}
    plan = offerings.diff(outcome.id, outcome.outputs, normalised(offerings, bigger))
    assert sorted(plan.replaces) == ["cpu_number", "memory"] and plan.delete_before_replace
    offerings.delete(outcome.id, outcome.outputs)
    offerings.delete(outcome.id, outcome.outputs)
    assert offerings.read(outcome.id, outcome.outputs).id == ""


def test_disk_offering_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any]) -> None:
    offerings = configured(DiskOfferingProvider)
    outcome = choreography(
        offerings, {"name": "data-20", "display_text": "20 GB", "disk_size": 20},
        create_command="createDiskOffering",
        update={"display_text": "20 GB data disk", "tags": "ceph"},
        out_of_band=lambda i: raw.updateDiskOffering(id=i, tags="other"),
        drifted=["tags"],
        log=cs_lab.request_log,
    )
    plan = offerings.diff(outcome.id, outcome.outputs, {**outcome.inputs, "disk_size": 40})
    assert plan.replaces == ["disk_size"]


def test_network_offering_is_enabled_after_creation(cs_lab: Any, raw: CloudStack,
                                                    configured: Callable[..., Any]) -> None:
    offerings = configured(NetworkOfferingProvider)
    services = ["Dhcp", "Dns", "Firewall", "PortForwarding", "SourceNat", "StaticNat", "UserData"]
    outcome = choreography(
        offerings, {"name": "isolated-vr", "display_text": "Isolated, VR", "services": services},
        create_command="createNetworkOffering",
        update={"display_text": "Isolated with a virtual router", "availability": "Optional"},
        out_of_band=lambda i: raw.updateNetworkOffering(id=i, state="Disabled"),
        drifted=["enabled"],
        log=cs_lab.request_log,
        delete=False,
    )
    (offering,) = raw.listNetworkOfferings(id=outcome.id)["networkoffering"]
    assert offering["state"] == "Enabled"
    assert sorted(s["name"] for s in offering["service"]) == services
    plan = offerings.diff(outcome.id, outcome.outputs, {**outcome.inputs, "services": ["Dhcp", "Dns"]})
    assert plan.replaces == ["services"]
    offerings.delete(outcome.id, outcome.outputs)
    assert offerings.read(outcome.id, outcome.outputs).id == ""


def _image_store(raw: CloudStack, zone_id: str) -> None:
    raw.addImageStore(provider="NFS", name="secondary", zoneid=zone_id, url="nfs://127.0.0.1/export/secondary")


def test_template_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str) -> None:
    _image_store(raw, zone_id)
    templates = configured(TemplateProvider)
    outcome = choreography(
        templates, {"zone_id": zone_id, "name": "debian-12", "display_text": "Debian 12",
                    "url": "http://images.example/debian-12.vhd", "os_type": "CentOS 7"},
        create_command="registerTemplate",
        update={"display_text": "Debian 12 (bookworm)", "password_enabled": True,
                "os_type": "Debian GNU/Linux 12 (64-bit)"},
        out_of_band=lambda i: raw.updateTemplate(id=i, displaytext="edited"),
        drifted=["display_text"],
        log=cs_lab.request_log,
    )
    assert outcome.outputs["status"] == "Download Complete" and outcome.outputs["is_ready"] is True
    plan = templates.diff(outcome.id, outcome.outputs, {**outcome.inputs, "url": "http://images.example/d13.vhd"})
    assert plan.replaces == ["url"]


def test_a_failed_download_names_cloudstacks_status_and_is_unregistered(
    cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str
) -> None:
    _image_store(raw, zone_id)
    templates = configured(TemplateProvider)
    cs_lab.backend.templates.fail("broken", "Failed post download script: checksum mismatch")
    props = {"zone_id": zone_id, "name": "broken", "display_text": "broken", "url": "http://images.example/b.vhd",
             "os_type": "CentOS 7"}
    with pytest.raises(Permanent) as failed:
        templates.create(normalised(templates, props))
    assert "Failed post download script: checksum mismatch" in failed.value.message
    assert raw.listTemplates(templatefilter="all") == {}


def test_the_wait_for_a_download_is_bounded(cs_lab: Any, raw: CloudStack, zone_id: str) -> None:
    _image_store(raw, zone_id)
    templates = TemplateProvider()
    templates.configure_with(Settings(endpoint=cs_lab.endpoint, api_key=cs_lab.api_key, secret_key=cs_lab.secret_key,
                                      job_timeout=0.2, poll_interval=0.01, retry_timeout=5, http_timeout=10))
    cs_lab.backend.templates.hold()
    props = {"zone_id": zone_id, "name": "slow", "display_text": "slow", "url": "http://images.example/s.vhd",
             "os_type": "CentOS 7"}
    with pytest.raises(Timeout) as slow:
        templates.create(normalised(templates, props))
    assert "waiting for the download of http://images.example/s.vhd; last seen: status not started" in (
        slow.value.message)
    # the next run adopts the registered template and waits again
    cs_lab.backend.templates.release()
    done = templates.create(normalised(templates, props))
    assert (done.outs or {})["is_ready"] is True and commands(cs_lab.request_log, "registerTemplate") == 1


def test_iso_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str) -> None:
    _image_store(raw, zone_id)
    isos = configured(IsoProvider)
    choreography(
        isos, {"zone_id": zone_id, "name": "virtio", "display_text": "drivers",
               "url": "http://images.example/virtio.iso", "os_type": "Windows Server 2022 (64-bit)", "bootable": False},
        create_command="registerIso",
        update={"display_text": "Windows drivers"},
        out_of_band=lambda i: raw.updateIso(id=i, displaytext="edited"),
        drifted=["display_text"],
        log=cs_lab.request_log,
    )
