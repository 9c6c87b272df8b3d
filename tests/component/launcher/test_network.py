"""The network layer on this machine: namespaces, bridge, veths and forwarders (root and `ip` needed)."""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from taskcenter.launcher.network import (
    Forwarder,
    Host,
    Network,
    NetworkError,
    Topology,
    exec_prefix,
    unavailable_reason,
)

ECHO_PORT = 7000

# Echoes each connection until the client's EOF, then half-closes back (so EOF must be passed on).
ECHO_SERVER = """
import socket, sys, threading
def serve(conn):
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
server = socket.create_server(("0.0.0.0", int(sys.argv[1])), backlog=128)
print("ready", flush=True)
while True:
    threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()
"""

# Sends n bytes, half-closes, reads the answer to EOF; prints its hostname and whether it came back whole.
CLIENT = """
import hashlib, socket, sys
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
payload = bytes(range(256)) * (size // 256)
with socket.create_connection((host, port), timeout=5) as conn:
    conn.sendall(payload)
    conn.shutdown(socket.SHUT_WR)
    received = b"".join(iter(lambda: conn.recv(65536), b""))
print(socket.gethostname(), received == payload, len(received))
"""


def _names_with(prefix: str) -> tuple[list[str], list[str]]:
    links = subprocess.run(["ip", "-o", "link", "show"], check=True, capture_output=True, text=True).stdout
    netns = subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, text=True).stdout
    return (
        [n for line in links.splitlines() if (n := line.split(":")[1].strip().split("@")[0]).startswith(f"{prefix}-")],
        [n for line in netns.splitlines() if (n := line.split(" ")[0]).startswith(f"{prefix}-")],
    )


@pytest.fixture(scope="module")
def network() -> Network:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if reason := unavailable_reason():
        pytest.skip(reason)
    subnet = IPv4Network(f"10.214.{secrets.randbelow(256)}.0/24")
    return Network(host_names=("host-a", "host-b"), prefix=f"t{secrets.token_hex(3)}", subnet=subnet)


@pytest.fixture(scope="module")
def topology(network: Network) -> Iterator[Topology]:
    with Topology(network) as topology:
        yield topology
    assert _names_with(network.prefix) == ([], [])
    assert not any(p.name.startswith(f"{network.prefix}-") for p in Path("/etc/netns").glob("*"))


@pytest.fixture(scope="module")
def echo_in_a(topology: Topology) -> Iterator[str]:
    """An echo server inside host A's namespace; yields A's address."""
    host = topology.network.host("host-a")
    server = subprocess.Popen(
        [*exec_prefix(host), sys.executable, "-c", ECHO_SERVER, str(ECHO_PORT)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        yield str(host.ip)
    finally:
        server.terminate()
        server.wait(5)


@pytest.fixture()
def echo_in_root() -> Iterator[tuple[str, int]]:
    class Echo(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            while data := self.request.recv(65536):
                self.request.sendall(data)
            self.request.shutdown(socket.SHUT_WR)

    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo) as server:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        host, port = server.server_address[:2]
        yield str(host), port
        server.shutdown()


def _run_in(topology: Topology, name: str, host: str, port: int, size: int) -> str:
    command = [*exec_prefix(topology.network.host(name)), sys.executable, "-c", CLIENT, host, str(port), str(size)]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=20).stdout.strip()


def _echo(address: tuple[str, int], payload: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as conn:

        def send() -> None:
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        received = b"".join(iter(lambda: conn.recv(65536), b""))
        sender.join()
    return received


def test_a_host_reaches_another_by_address_and_by_name_with_its_own_hostname(
    topology: Topology, echo_in_a: str
) -> None:
    assert _run_in(topology, "host-b", echo_in_a, ECHO_PORT, 1 << 20) == f"host-b True {1 << 20}"
    assert _run_in(topology, "host-b", "host-a", ECHO_PORT, 256) == "host-b True 256"
    assert socket.gethostname() != "host-b"  # the root namespace's hostname is untouched


def test_the_root_namespace_reaches_a_host_through_a_forwarder(echo_in_a: str) -> None:
    payload = os.urandom(4 << 20)
    with Forwarder(listen=("127.0.0.1", 0), target=(echo_in_a, ECHO_PORT), name="to host-a") as forwarder:
        assert forwarder.address[1] > 0
        assert hashlib.sha256(_echo(forwarder.address, payload)).digest() == hashlib.sha256(payload).digest()
        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(lambda i: _echo(forwarder.address, bytes([i]) * 100_000), range(64)))
    assert answers == [bytes([i]) * 100_000 for i in range(64)]


def test_a_host_reaches_a_loopback_server_through_a_forwarder_at_the_gateway(
    topology: Topology, echo_in_root: tuple[str, int]
) -> None:
    gateway = str(topology.network.gateway)
    with Forwarder(listen=(gateway, 0), target=echo_in_root) as forwarder:
        port = forwarder.address[1]
        assert _run_in(topology, "host-a", gateway, port, 1 << 20) == f"host-a True {1 << 20}"


def test_stop_closes_live_connections_and_an_unreachable_target_only_closes_that_connection(
    echo_in_root: tuple[str, int],
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        nobody = free.getsockname()
    with Forwarder(listen=("127.0.0.1", 0), target=nobody) as dead:
        with socket.create_connection(dead.address, timeout=5) as conn:
            assert conn.recv(1) == b""
    forwarder = Forwarder(listen=("127.0.0.1", 0), target=echo_in_root).start()
    conn = socket.create_connection(forwarder.address, timeout=5)
    conn.sendall(b"ping")
    assert conn.recv(4) == b"ping"
    started = time.monotonic()
    forwarder.stop()
    assert time.monotonic() - started < 2
    try:
        assert conn.recv(1) == b""
    except ConnectionResetError:
        pass
    conn.close()
    with pytest.raises(OSError):
        socket.create_connection(forwarder.address, timeout=1).close()


def test_a_busy_listen_address_is_an_error_at_start(echo_in_root: tuple[str, int]) -> None:
    with pytest.raises(OSError):
        Forwarder(listen=echo_in_root, target=echo_in_root).start()


def test_up_clears_a_crashed_run_and_a_failed_up_leaves_nothing() -> None:
    if os.geteuid() != 0 or unavailable_reason():
        pytest.skip("network namespaces need root")
    net = Network(host_names=("x", "y"), prefix=f"t{secrets.token_hex(3)}", subnet=IPv4Network("10.214.250.0/24"))
    try:
        Topology(net).up()  # "crashes": never brought down
        subprocess.run(["ip", "netns", "add", f"{net.prefix}-stale"], check=True)  # an earlier, larger run's
        subprocess.run(
            ["ip", "link", "add", f"{net.prefix}-99", "type", "veth", "peer", "name", f"{net.prefix}-98"], check=True
        )
        with Topology(net):
            links, netns = _names_with(net.prefix)
            assert sorted(netns) == [f"{net.prefix}-x", f"{net.prefix}-y"]
            assert sorted(links) == [f"{net.prefix}-10", f"{net.prefix}-11", f"{net.prefix}-br"]

        class Failing(Topology):
            def _write_etc(self, host: Host) -> None:
                if host.name == "y":
                    raise NetworkError("simulated failure half-way")
                super()._write_etc(host)

        with pytest.raises(NetworkError, match="half-way"):
            Failing(net).up()
        assert _names_with(net.prefix) == ([], [])
    finally:
        Topology(net).down()
