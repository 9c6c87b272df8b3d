"""The cluster's network: one network namespace per component, a bridge, and TCP forwarders.

`make run-cluster` runs each component as its own host, as on separate machines: each has its own
IP address, hostname and ports (two Celery workers each serve Airflow's logs on 8793; each
resolves the others by name). Every host is a network namespace with a veth pair onto one bridge
in the root namespace; the bridge holds the gateway address (.1), where `Forwarder`s in the
launcher relay to the machine's loopback services (PostgreSQL, Redis, the mail catcher). Traffic
from a host to the gateway is local delivery and host to host is bridged, so no sysctl, routing
or NAT is changed. Everything is named with the network's prefix, so cleanup touches nothing else.
Creating namespaces and links needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "tc"
DEFAULT_SUBNET = IPv4Network("10.213.0.0/24")
FIRST_HOST = 10  # .1 is the gateway; .2 to .9 are left free
LAST_HOST = 254
MAX_HOSTS = LAST_HOST - FIRST_HOST + 1
IFNAME_MAX = 15  # the kernel's IFNAMSIZ - 1
PEER_NAME = "eth0"  # the host's end of its veth pair, inside its namespace
ETC_NETNS = Path("/etc/netns")  # `ip netns exec` bind-mounts /etc/netns/<ns>/* over /etc/*
CHUNK = 64 * 1024
QUIET_FOR = 30.0  # seconds between two "cannot reach" lines of one forwarder

# No "-" in a prefix: "tc-..." then belongs to prefix "tc" alone, never to "tc-x".
_PREFIX = re.compile(r"[a-z][a-z0-9]{0,10}")
_HOST_NAME = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")


class NetworkError(RuntimeError):
    """An `ip` command failed, or the plan is invalid."""


@dataclass(frozen=True, kw_only=True)
class Host:
    """One component's host: its namespace, the bridge end of its veth pair, and its address."""

    name: str
    netns: str
    veth: str  # in the root namespace, enslaved to the bridge
    peer: str  # in the host's namespace, holding `ip`
    ip: IPv4Address


@dataclass(frozen=True, kw_only=True)
class Network:
    """The address plan: deterministic names and addresses from host names, prefix and subnet.

    A host's address follows its position in `host_names` (.10, .11, ...); its veth is named by
    that last octet (`tc-10`), since "tc-dag-processor" would not fit the 15-character limit.
    """

    host_names: tuple[str, ...]
    prefix: str = DEFAULT_PREFIX
    subnet: IPv4Network = DEFAULT_SUBNET
    hosts: tuple[Host, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise NetworkError(
                f"prefix {self.prefix!r}: 1 to 11 characters, a lowercase letter then letters or digits"
                f" (interface names such as {self.prefix}-{LAST_HOST} must fit {IFNAME_MAX} characters)"
            )
        if self.subnet.prefixlen != 24:
            raise NetworkError(f"subnet {self.subnet}: a /24 is expected")
        if len(self.host_names) > MAX_HOSTS:
            raise NetworkError(f"{len(self.host_names)} hosts: at most {MAX_HOSTS} fit a /24 from .{FIRST_HOST}")
        seen: set[str] = set()
        for name in self.host_names:
            if not _HOST_NAME.fullmatch(name):
                raise NetworkError(f"host name {name!r}: a hostname label (a-z, 0-9, '-', at most 63)")
            if name in seen:
                raise NetworkError(f"host name {name!r} appears twice")
            seen.add(name)
        hosts = tuple(
            Host(
                name=name,
                netns=f"{self.prefix}-{name}",
                veth=f"{self.prefix}-{FIRST_HOST + index}",
                peer=PEER_NAME,
                ip=self.subnet.network_address + FIRST_HOST + index,
            )
            for index, name in enumerate(self.host_names)
        )
        object.__setattr__(self, "hosts", hosts)

    @property
    def bridge(self) -> str:
        return f"{self.prefix}-br"

    @property
    def gateway(self) -> IPv4Address:
        """The bridge's address in the root namespace: where hosts reach the forwarders."""
        return self.subnet.network_address + 1

    def host(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(f"no host {name!r} in the network (hosts: {', '.join(self.host_names)})")

    def owns_link(self, name: str) -> bool:
        """Whether a link of the root namespace is one this prefix creates (bridge or veth)."""
        return name == self.bridge or re.fullmatch(rf"{self.prefix}-\d{{1,3}}", name) is not None

    def owns_netns(self, name: str) -> bool:
        return name.startswith(f"{self.prefix}-")

    def hosts_file(self, host: Host) -> str:
        """The /etc/hosts a host sees: its own name first, then every host by name, as with DNS."""
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
        lines += [f"{other.ip}\t{other.name}" for other in (host, *(h for h in self.hosts if h != host))]
        return "\n".join(lines) + "\n"


def exec_prefix(host: Host, *, disk: tuple[Path, str] | None = None) -> list[str]:
    """The command prefix that runs a program on `host`: in its network namespace, with its hostname.

    Each step execs the next (no extra process): the program keeps the pid the launcher started,
    so signals and PR_SET_PDEATHSIG reach it. The hostname lives in a UTS namespace of its own,
    so Airflow's `socket.getfqdn()` gives the host's name, which every host resolves (its hosts file).

    `disk` = (folder, mount point): the host's own disk. The folder is bound at the mount point in a
    mount namespace of the host's program alone, so every host finds its files at the same path (as
    in a container image) and no host sees another's.
    """
    if disk is None:
        set_hostname = 'hostname "$0" && exec "$@"'
        return ["ip", "netns", "exec", host.netns, "unshare", "--uts", "--", "sh", "-c", set_hostname, host.name]
    folder, mount_point = disk
    with_disk = 'hostname "$0" && mount --bind "$1" "$2" && shift 2 && exec "$@"'
    return [
        "ip", "netns", "exec", host.netns, "unshare", "--uts", "--mount", "--propagation", "private", "--",
        "sh", "-c", with_disk, host.name, str(folder), mount_point,
    ]  # fmt: skip


def _ip(*args: str) -> str:
    command = ["ip", *args]
    try:
        done = subprocess.run(command, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise NetworkError(f"`{' '.join(command)}` failed ({exc.returncode}): {exc.stderr.strip()}") from exc
    except FileNotFoundError as exc:
        raise NetworkError("the `ip` program (iproute2) is not installed") from exc
    return done.stdout


class Topology:
    """Brings a `Network` up (bridge, namespaces, veths, routes, hosts files) and down again.

    `down()` works from names, not from what this object made: it removes everything with the
    prefix, so it is idempotent and also clears a partial `up()` or an earlier crashed run, and
    `up()` starts with it.
    """

    def __init__(self, network: Network, *, etc_netns: Path = ETC_NETNS) -> None:
        self.network = network
        self.etc_netns = etc_netns

    def up(self) -> Topology:
        self.down()
        try:
            self._create()
        except BaseException:
            try:
                self.down()
            except NetworkError as exc:
                logger.error("could not clean up after a failed network start: %s", exc)
            raise
        return self

    def _create(self) -> None:
        net = self.network
        _ip("link", "add", net.bridge, "type", "bridge")
        _ip("addr", "add", f"{net.gateway}/{net.subnet.prefixlen}", "dev", net.bridge)
        _ip("link", "set", net.bridge, "up")
        for host in net.hosts:
            self._write_etc(host)
            _ip("netns", "add", host.netns)
            _ip("-n", host.netns, "link", "set", "lo", "up")
            # The peer is created inside the namespace, so its name never meets the root's eth0.
            _ip("link", "add", host.veth, "type", "veth", "peer", "name", host.peer, "netns", host.netns)
            _ip("link", "set", host.veth, "alias", host.name)
            _ip("link", "set", host.veth, "master", net.bridge, "up")
            _ip("-n", host.netns, "addr", "add", f"{host.ip}/{net.subnet.prefixlen}", "dev", host.peer)
            _ip("-n", host.netns, "link", "set", host.peer, "up")
            _ip("-n", host.netns, "route", "add", "default", "via", str(net.gateway))

    def _write_etc(self, host: Host) -> None:
        folder = self.etc_netns / host.netns
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hosts").write_text(self.network.hosts_file(host))

    def down(self) -> None:
        """Remove every link, namespace and /etc/netns folder with the prefix; try all, then report."""
        net = self.network
        errors: list[str] = []
        links = [line.split(":")[1].strip().split("@")[0] for line in _ip("-o", "link", "show").splitlines()]
        # veths first (deleting one end deletes both, even if a process still holds the namespace).
        for name in sorted(n for n in links if net.owns_link(n) and n != net.bridge):
            errors += _attempt("link", "del", name)
        if net.bridge in links:
            errors += _attempt("link", "del", net.bridge)
        for line in _ip("netns", "list").splitlines():
            name = line.split(" ")[0]
            if net.owns_netns(name):
                errors += _attempt("netns", "del", name)
        if self.etc_netns.is_dir():
            for folder in self.etc_netns.iterdir():
                if net.owns_netns(folder.name):
                    shutil.rmtree(folder, ignore_errors=True)
        if errors:
            raise NetworkError("; ".join(errors))

    def __enter__(self) -> Topology:
        return self.up()

    def __exit__(self, *exc_info: object) -> None:
        self.down()


def _attempt(*args: str) -> list[str]:
    """Run `ip args`; a link or namespace already gone is fine (down() races nothing else)."""
    try:
        _ip(*args)
    except NetworkError as exc:
        if "Cannot find device" in str(exc) or "No such file" in str(exc):
            return []
        return [str(exc)]
    return []


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here (not root, no `ip`, ...), found by making one; None: they can."""
    probe = f"tcprobe-{threading.get_native_id()}"
    try:
        _ip("netns", "add", probe)
    except NetworkError as exc:
        return f"cannot create a network namespace: {exc}"
    try:
        _ip("netns", "del", probe)
    except NetworkError as exc:
        return f"cannot delete a network namespace: {exc}"
    return None


class Forwarder:
    """Relays TCP connections from `listen` to `target`, in both directions, in a background thread.

    An asyncio loop in a daemon thread serves every connection: 64 KiB reads and writes with flow
    control (drain), half-close passed on (a client's EOF reaches the target as EOF, and the
    answer still flows back). Errors on a connection are logged and close it; they never reach
    the launcher. `stop()` closes the listener and every live connection.
    """

    def __init__(
        self, *, listen: tuple[str, int], target: tuple[str, int], name: str = "", connect_timeout: float = 10.0
    ) -> None:
        self.listen = listen
        self.target = target
        self.name = name
        self.connect_timeout = connect_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._last_unreachable_log = float("-inf")

    @property
    def address(self) -> tuple[str, int]:
        """The bound address (the port chosen when `listen` asked for port 0)."""
        return self.listen

    def start(self) -> Forwarder:
        """Bind at once (a busy or missing address is an OSError here), then serve in the thread."""
        if self._loop is not None:
            raise RuntimeError(f"forwarder {self.name} is already running")
        sock = socket.create_server(self.listen, backlog=1024)
        self.listen = sock.getsockname()[:2]
        self.name = self.name or f"{self.listen[0]}:{self.listen[1]}->{self.target[0]}:{self.target[1]}"
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=_run_loop, args=(loop,), name=f"forwarder {self.name}", daemon=True)
        thread.start()
        try:
            self._server = asyncio.run_coroutine_threadsafe(self._serve(sock), loop).result(timeout=10)
        except BaseException:
            sock.close()
            _stop_loop(loop, thread)
            raise
        self._loop, self._thread = loop, thread
        return self

    def _unreachable(self, exc: BaseException) -> None:
        """Say that the target does not answer once per `QUIET_FOR` seconds: a client that polls a
        program still starting (the launcher waiting for the api-server) is not a log line a try."""
        now = time.monotonic()
        if now - self._last_unreachable_log >= QUIET_FOR:
            self._last_unreachable_log = now
            logger.warning("forwarder %s: cannot reach %s:%s: %r", self.name, *self.target, exc)

    async def _serve(self, sock: socket.socket) -> asyncio.Server:
        return await asyncio.start_server(self._handle, sock=sock, limit=CHUNK, backlog=1024)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            try:
                target_reader, target_writer = await asyncio.wait_for(
                    asyncio.open_connection(*self.target, limit=CHUNK), self.connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                self._unreachable(exc)
                return
            try:
                await _splice(client_reader, client_writer, target_reader, target_writer)
            finally:
                target_writer.close()
        except asyncio.CancelledError:
            pass  # stop(): ending normally, since asyncio 3.11 logs a cancelled connection task as an error
        except Exception as exc:  # noqa: BLE001 - one connection's failure is logged, not raised
            logger.warning("forwarder %s: a connection failed: %r", self.name, exc)
        finally:
            client_writer.close()
            self._connections.discard(task)

    def stop(self, *, timeout: float = 5.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - stopping goes on regardless
            logger.warning("forwarder %s: unclean stop: %r", self.name, exc)
        _stop_loop(loop, thread, timeout=timeout)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def __enter__(self) -> Forwarder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _splice(
    a_reader: asyncio.StreamReader,
    a_writer: asyncio.StreamWriter,
    b_reader: asyncio.StreamReader,
    b_writer: asyncio.StreamWriter,
) -> None:
    """Pipe both ways until both sides sent EOF; a failure either way aborts both."""
    pipes = {asyncio.create_task(_pipe(a_reader, b_writer)), asyncio.create_task(_pipe(b_reader, a_writer))}
    try:
        done, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in pipes:
            task.cancel()
    failed = [task.exception() for task in done if task.exception() is not None]
    if pending or failed:
        a_writer.transport.abort()
        b_writer.transport.abort()
        logger.debug("a forwarded connection ended by %r", failed)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(CHUNK):
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof() and not writer.is_closing():
        writer.write_eof()


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread, *, timeout: float = 5.0) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout)
    if not thread.is_alive():
        loop.close()
