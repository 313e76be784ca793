"""The interface other pieces code against: start, login, a pool per host, HOST_IS_SLAVE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import XenAPI

from lab.xapi import XapiLab
from tests.xapi.conftest import PASSWORD


def test_hosts_start_as_masters_of_their_own_pools(lab: XapiLab, login: Callable[[int], Any]) -> None:
    for i, info in enumerate(lab.hosts):
        assert info.url == f"http://{info.address}/"
        x = login(i).xenapi
        (pool,) = x.pool.get_all()
        (host,) = x.host.get_all()
        assert x.pool.get_master(pool) == host
        assert x.host.get_address(host) == info.address
        assert x.host.get_name_label(host) == info.name


def test_member_answers_login_with_host_is_slave(lab: XapiLab, login: Callable[[int], Any]) -> None:
    login(1).xenapi.pool.join(lab.hosts[0].address, "root", PASSWORD)
    with pytest.raises(XenAPI.Failure) as e:
        XenAPI.Session(lab.hosts[1].url).xenapi.login_with_password("root", PASSWORD)
    assert e.value.details == ["HOST_IS_SLAVE", lab.hosts[0].address]
    assert len(login(0).xenapi.host.get_all()) == 2
