from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from taskcenter.launcher.network import (
    IFNAME_MAX,
    MAX_HOSTS,
    Host,
    Network,
    NetworkError,
    exec_prefix,
)

CLUSTER = ("api-server", "scheduler-1", "scheduler-2", "worker-1", "worker-2", "dag-processor", "triggerer")


def test_default_plan_names_and_addresses_each_host_in_order() -> None:
    net = Network(host_names=CLUSTER)
    assert (net.prefix, net.subnet, net.bridge, net.gateway) == (
        "tc",
        IPv4Network("10.213.0.0/24"),
        "tc-br",
        IPv4Address("10.213.0.1"),
    )
    assert net.hosts[0] == Host(
        name="api-server", netns="tc-api-server", veth="tc-10", peer="eth0", ip=IPv4Address("10.213.0.10")
    )
    assert [str(h.ip) for h in net.hosts] == [f"10.213.0.{n}" for n in range(10, 17)]
    assert net.host("dag-processor") == Host(
        name="dag-processor", netns="tc-dag-processor", veth="tc-15", peer="eth0", ip=IPv4Address("10.213.0.15")
    )


def test_the_plan_is_deterministic() -> None:
    assert Network(host_names=CLUSTER) == Network(host_names=CLUSTER)
    assert Network(host_names=CLUSTER).hosts == Network(host_names=CLUSTER).hosts


def test_prefix_and_subnet_can_be_changed_for_a_second_cluster() -> None:
    net = Network(host_names=("a", "b"), prefix="tc2", subnet=IPv4Network("10.214.7.0/24"))
    assert (net.bridge, str(net.gateway)) == ("tc2-br", "10.214.7.1")
    assert [(h.netns, h.veth, str(h.ip)) for h in net.hosts] == [
        ("tc2-a", "tc2-10", "10.214.7.10"),
        ("tc2-b", "tc2-11", "10.214.7.11"),
    ]


def test_the_longest_prefix_and_the_last_host_fit_an_interface_name() -> None:
    net = Network(host_names=tuple(f"h{i}" for i in range(MAX_HOSTS)), prefix="abcdefghijk")
    last = net.hosts[-1]
    assert (str(last.ip), last.veth) == ("10.213.0.254", "abcdefghijk-254")
    assert max(len(n) for n in (net.bridge, *(h.veth for h in net.hosts))) <= IFNAME_MAX


@pytest.mark.parametrize("prefix", ["", "abcdefghijkl", "tc-x", "Tc", "1tc", "t_c"])
def test_invalid_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(NetworkError, match="prefix"):
        Network(host_names=("a",), prefix=prefix)


@pytest.mark.parametrize("name", ["", "Worker", "-a", "a-", "a_b", "a.b", "1a", "a" * 64])
def test_invalid_host_names_are_refused(name: str) -> None:
    with pytest.raises(NetworkError, match="host name"):
        Network(host_names=(name,))


def test_duplicate_hosts_too_many_hosts_and_other_subnet_sizes_are_refused() -> None:
    with pytest.raises(NetworkError, match="twice"):
        Network(host_names=("a", "b", "a"))
    with pytest.raises(NetworkError, match=f"at most {MAX_HOSTS}"):
        Network(host_names=tuple(f"h{i}" for i in range(MAX_HOSTS + 1)))
    with pytest.raises(NetworkError, match="/24"):
        Network(host_names=("a",), subnet=IPv4Network("10.213.0.0/16"))


def test_an_unknown_host_is_a_key_error_listing_the_hosts() -> None:
    with pytest.raises(KeyError, match="api-server"):
        Network(host_names=("api-server",)).host("worker-9")


def test_ownership_by_prefix_never_reaches_another_prefix() -> None:
    net = Network(host_names=("a",), prefix="tc")
    assert [net.owns_link(n) for n in ("tc-br", "tc-10", "tc-254", "tc2-br", "tc2-10", "eth0", "tc-x", "tc-1000")] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    assert [net.owns_netns(n) for n in ("tc-a", "tc-old-host", "tc2-a", "tcx")] == [True, True, False, False]


def test_each_host_resolves_itself_first_and_every_other_host() -> None:
    net = Network(host_names=("api-server", "worker-1"))
    assert net.hosts_file(net.host("worker-1")).splitlines() == [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "10.213.0.11\tworker-1",
        "10.213.0.10\tapi-server",
    ]


def test_exec_prefix_enters_the_namespace_and_sets_the_hostname() -> None:
    host = Network(host_names=("worker-1",)).host("worker-1")
    prefix = exec_prefix(host)
    assert prefix[:4] == ["ip", "netns", "exec", "tc-worker-1"]
    assert prefix[-1] == "worker-1" and "--uts" in prefix
