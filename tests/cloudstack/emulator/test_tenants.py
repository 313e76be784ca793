"""The emulator's tenant side: domains, accounts, users and their keys, roles, offerings,
templates and ISOs, limits; what a tenant may call and see; every answer's fields in listApis."""

from __future__ import annotations

from typing import Any

import cs
import pytest

from lab.cloudstack import CloudStackLab, spec
from tests.cloudstack.emulator.conftest import build_zone
from tests.cloudstack.emulator.test_conformance import _fields_ok

LINUX = "f3c3a6e2-0000-4000-8000-000000000102"


def _as(lab: CloudStackLab, keys: dict[str, str]) -> cs.CloudStack:
    return cs.CloudStack(endpoint=lab.endpoint, key=keys["apikey"], secret=keys["secretkey"], poll_interval=0.01,
                         job_timeout=10, fetch_result=True)


def _error(call: Any, **kw: Any) -> dict[str, Any]:
    with pytest.raises(cs.CloudStackApiException) as e:
        call(**kw)
    return dict(e.value.error)


def _tenant(client: cs.CloudStack, domain: str, name: str, accounttype: int = 0) -> dict[str, Any]:
    account = client.createAccount(domainid=domain, account=name, username=f"{name}-user", firstname="F",
                                   lastname="L", email=f"{name}@example.com", password="pw",
                                   accounttype=accounttype)["account"]
    keys = client.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    return {"account": account, "keys": keys}


def test_domains_accounts_users_and_keys(lab: CloudStackLab, client: cs.CloudStack) -> None:
    reseller = client.createDomain(name="reseller")["domain"]
    assert (reseller["path"], reseller["level"], reseller["parentdomainname"]) == ("ROOT/reseller", 1, "ROOT")
    again = _error(client.createDomain, name="reseller")
    assert again["errorcode"] == 431 and again["errortext"].startswith(
        "Domain with name reseller already exists for the parent id=")
    customer = _tenant(client, reseller["id"], "customer")
    admin_of_reseller = _tenant(client, reseller["id"], "reseller-admin", accounttype=2)
    assert customer["account"]["roletype"] == "User" and admin_of_reseller["account"]["roletype"] == "DomainAdmin"
    assert set(customer["keys"]) == {"apikey", "secretkey"}
    dup = _error(client.createAccount, domainid=reseller["id"], account="other", username="customer-user",
                 firstname="F", lastname="L", email="x@example.com", password="pw", accounttype=0)
    dbid = lab.backend.tenants.domain(reseller["id"]).dbid
    assert dup["errortext"] == f"The user customer-user already exists in domain {dbid}"

    user = _as(lab, customer["keys"])
    (me,) = user.listAccounts()["account"]
    assert me["name"] == "customer" and "secretkey" not in me["user"][0]
    denied = _error(user.createDomain, name="mine")
    assert denied["errorcode"] == 432
    assert denied["errortext"].startswith("The API [createDomain] does not exist or is not available for the account")
    # a domain admin manages its own domain's tenants, not others'
    dadmin = _as(lab, admin_of_reseller["keys"])
    dadmin.createAccount(domainid=reseller["id"], account="customer-2", username="bob", firstname="B", lastname="T",
                         email="b@example.com", password="pw", accounttype=0)
    assert {a["name"] for a in dadmin.listAccounts(listall=True)["account"]} == {
        "customer", "reseller-admin", "customer-2"}
    other = client.createDomain(name="elsewhere")["domain"]
    assert _error(dadmin.createAccount, domainid=other["id"], account="x", username="x", firstname="x",
                  lastname="x", email="x@example.com", password="pw", accounttype=0)["errorcode"] == 531
    # new keys replace the old pair: the old one no longer signs
    fresh = client.registerUserKeys(id=customer["account"]["user"][0]["id"])["userkeys"]
    assert _error(user.listAccounts)["errorcode"] == 401
    assert _as(lab, fresh).listAccounts()["count"] == 1
    assert client.getUserKeys(id=customer["account"]["user"][0]["id"])["userkeys"] == fresh

    role = client.createRole(name="Support", type="User", description="read-mostly")["role"]
    assert client.listRoles(name="Support")["role"][0]["id"] == role["id"]
    assert _error(client.deleteRole, id=next(r["id"] for r in client.listRoles()["role"] if r["name"] == "User"))[
        "errorcode"] == 531
    client.deleteAccount(id=customer["account"]["id"])
    assert client.listAccounts(name="customer", listall=True) == {}


def test_offerings(client: cs.CloudStack) -> None:
    small = client.createServiceOffering(name="small", displaytext="small", cpunumber=1, cpuspeed=1000,
                                         memory=1024, storagetype="shared", hosttags="gold")["serviceoffering"]
    assert (small["cpunumber"], small["memory"], small["hosttags"], small["iscustomized"]) == (1, 1024, "gold", False)
    bad = _error(client.createServiceOffering, name="tiny", displaytext="t", cpunumber=1, cpuspeed=1000, memory=16)
    assert bad["errortext"] == ("Failed to create service offering tiny: specify the memory value between 32 and "
                                "2147483647 MB")
    updated = client.updateServiceOffering(id=small["id"], name="small-2", hosttags="silver")["serviceoffering"]
    assert (updated["name"], updated["hosttags"], updated["memory"]) == ("small-2", "silver", 1024)
    client.deleteServiceOffering(id=small["id"])
    assert client.listServiceOfferings(id=small["id"]) == {}

    disk = client.createDiskOffering(name="data-20", displaytext="20 GB", disksize=20, tags="ceph")["diskoffering"]
    assert (disk["disksize"], disk["tags"]) == (20, "ceph")
    assert _error(client.createDiskOffering, name="x", displaytext="x")["errortext"] == (
        "Disksize is required for a non-customized disk offering")

    net = client.createNetworkOffering(
        name="isolated-vr", displaytext="isolated", guestiptype="Isolated", traffictype="GUEST",
        supportedservices="Dhcp,Dns,SourceNat,Firewall",
        serviceproviderlist=[{"service": s, "provider": "VirtualRouter"} for s in ("Dhcp", "Dns", "SourceNat",
                                                                                   "Firewall")],
    )["networkoffering"]
    assert net["state"] == "Disabled"
    assert client.updateNetworkOffering(id=net["id"], state="Enabled")["networkoffering"]["state"] == "Enabled"
    default = client.listNetworkOfferings(isdefault=True)["networkoffering"]
    assert [o["name"] for o in default] == ["DefaultIsolatedNetworkOfferingWithSourceNatService"]


def test_templates_download_under_the_tests_control(lab: CloudStackLab, client: cs.CloudStack) -> None:
    zone = client.createZone(name="z", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.2")["zone"]
    no_store = _error(client.registerTemplate, name="t", displaytext="t", url="http://127.0.0.1/t.vhd",
                      zoneid=zone["id"], hypervisor="XenServer", format="VHD", ostypeid=LINUX)
    assert no_store["errortext"] == f"Failed to find a secondary storage in the specified zone {zone['id']}"
    client.addImageStore(provider="NFS", name="sec", zoneid=zone["id"], url="nfs://127.0.0.1/export/sec")
    bad = _error(client.registerTemplate, name="t", displaytext="t", url="http://127.0.0.1/t.vhd",
                 zoneid=zone["id"], hypervisor="XenServer", format="VHDZ", ostypeid=LINUX)
    assert bad["errortext"].startswith("Image format: VHDZ is incorrect. Supported formats are ")

    (t,) = client.registerTemplate(name="debian", displaytext="Debian", url="http://127.0.0.1/d.vhd",
                                   zoneid=zone["id"], hypervisor="XenServer", format="VHD", ostypeid=LINUX,
                                   ispublic=True)["template"]
    assert t["isready"] is False and "status" not in t
    seen = [client.listTemplates(templatefilter="self", id=t["id"])["template"][0] for _ in range(3)]
    assert [(s["status"], s["isready"]) for s in seen] == [
        ("0% Downloaded", False), ("50% Downloaded", False), ("Download Complete", True)]
    assert seen[-1]["size"] > 0 and seen[-1]["ostypename"] == "CentOS 7"

    lab.backend.templates.hold()
    (iso,) = client.registerIso(name="tools", displaytext="tools", url="http://127.0.0.1/tools.iso",
                                zoneid=zone["id"], ostypeid=LINUX, bootable=False)["iso"]
    for _ in range(3):
        held = client.listIsos(isofilter="self", id=iso["id"])["iso"][0]
    assert (held["isready"], held["format"]) == (False, "ISO")
    lab.backend.templates.release()
    lab.backend.templates.fail("tools", "Failed post download script: checksum mismatch")
    failed = client.listIsos(isofilter="self", id=iso["id"])["iso"][0]
    assert (failed["status"], failed["isready"]) == ("Failed post download script: checksum mismatch", False)
    updated = client.updateTemplate(id=t["id"], displaytext="Debian 12")["template"]
    assert updated["displaytext"] == "Debian 12"
    client.deleteIso(id=iso["id"])
    assert client.listIsos(isofilter="self") == {}


def test_resource_limits(lab: CloudStackLab, client: cs.CloudStack) -> None:
    reseller = client.createDomain(name="reseller")["domain"]
    customer = _tenant(client, reseller["id"], "customer")
    client.updateResourceLimit(domainid=reseller["id"], resourcetype=0, max=10)
    over = _error(client.updateResourceLimit, account="customer", domainid=reseller["id"], resourcetype=0, max=11)
    assert over["errortext"] == (f"Account customer(id: {customer['account']['id']}) has maximum allowed resource "
                                 "limit 10 for user_vm, please specify a value less than or equal to 10")
    limit = client.updateResourceLimit(account="customer", domainid=reseller["id"], resourcetype=8, max=4)
    assert limit["resourcelimit"] == {"account": "customer", "domainid": reseller["id"], "domain": "reseller",
                                      "resourcetype": "8", "resourcetypename": "cpu", "max": 4}
    assert _error(client.updateResourceLimit, domainid=reseller["id"], resourcetype=1, max=-2)["errortext"] == (
        "Please specify either '-1' for an infinite limit, or a limit that is at least '0'.")
    mine = _as(lab, customer["keys"]).listResourceLimits()["resourcelimit"]
    assert {(r["resourcetypename"], r["max"]) for r in mine} >= {("cpu", 4), ("user_vm", 20), ("memory", 40960)}
    assert _error(_as(lab, customer["keys"]).updateResourceLimit, resourcetype=0, max=1)["errorcode"] == 432
    domain = client.listDomains(id=reseller["id"])["domain"][0]
    assert (domain["vmlimit"], domain["vmtotal"]) == ("10", 0)


def test_every_tenant_answer_field_is_documented(lab: CloudStackLab, client: cs.CloudStack) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    original = lab.responses.handle

    def spy(params: dict[str, str]) -> Any:
        answer = original(params)
        if answer.status == 200 and answer.body:
            seen.append((params["command"], next(iter(answer.body.values()))))
        return answer

    lab.responses.handle = spy  # type: ignore[method-assign]
    ids = build_zone(client)
    client.addImageStore(provider="NFS", name="sec", zoneid=ids.zone, url="nfs://127.0.0.1/export/sec")
    test_resource_limits(lab, client)
    client.createServiceOffering(name="s", displaytext="s", cpunumber=1, cpuspeed=500, memory=512)
    client.createDiskOffering(name="d", displaytext="d", disksize=5)
    client.registerTemplate(name="t", displaytext="t", url="http://127.0.0.1/t.vhd", zoneid=ids.zone,
                            hypervisor="XenServer", format="VHD", ostypeid=LINUX)
    client.registerIso(name="i", displaytext="i", url="http://127.0.0.1/i.iso", zoneid=ids.zone, ostypeid=LINUX)
    offer = client.listNetworkOfferings()["networkoffering"][0]
    client.createNetwork(name="n", displaytext="n", networkofferingid=offer["id"], zoneid=ids.zone)
    for command in ("listDomains", "listUsers", "listRoles", "listServiceOfferings", "listDiskOfferings",
                    "listOsTypes", "listNetworks"):
        getattr(client, command)(listall=True) if command in ("listDomains", "listUsers", "listNetworks") else \
            getattr(client, command)()
    client.listAccounts(listall=True)
    client.listTemplates(templatefilter="all")
    client.listIsos(isofilter="all")
    problems: list[str] = []
    for command, body in seen:
        if command == "queryAsyncJobResult":
            job = next(j for j in lab.jobs.all() if j.id == body["jobid"])
            problems += _fields_ok(job.command, body.get("jobresult") or {})
        elif command in ("createAccount", "listAccounts"):
            problems += _fields_ok(command, body)
            users = [u for v in body.values() if isinstance(v, list | dict)
                     for a in (v if isinstance(v, list) else [v]) if isinstance(a, dict) for u in a.get("user", [])]
            problems += [f"{command} user: {sorted(set(u) - spec.apis()['createUser'].response)}" for u in users
                         if set(u) - spec.apis()["createUser"].response]
        elif not body.get("success"):
            problems += _fields_ok(command, body)
    assert len({c for c, _ in seen}) >= 20
    assert problems == []
