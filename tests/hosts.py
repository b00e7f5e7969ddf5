"""Hosts on one machine for the cluster test: each a Linux network namespace with its own address
on a private bridge, so that a host can be cut off (its link down) or killed (every process in it,
then the link) while the others go on. Nothing leaves the machine: the bridge has no uplink.
Needs root and `ip` (iproute2)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# A private /24 that the harness (on the bridge, .1) and the hosts (.11 and up) share.
SUBNET = "10.231.0"
BRIDGE = "hl-cluster"
PREFIX = "hl-"
TICKS = os.sysconf("SC_CLK_TCK")


class HostsUnavailable(RuntimeError):
    """This machine cannot make hosts (not root, or no iproute2)."""


def ip(*args: str) -> None:
    """Runs `ip` and raises with its message when it fails."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


class Host:
    """One namespace: its name, its address on the bridge, the processes started in it."""

    def __init__(self, name: str, number: int) -> None:
        """Makes the namespace and plugs it into the bridge as SUBNET.number."""
        self.name = name
        self.netns = PREFIX + name
        self.address = f"{SUBNET}.{number}"
        self.processes: list[subprocess.Popen[bytes]] = []
        outside = f"{PREFIX}{number}o"
        ip("netns", "add", self.netns)
        ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        ip("link", "set", outside, "master", BRIDGE, "up")
        self.run("ip", "addr", "add", f"{self.address}/24", "dev", "eth0")
        self.run("ip", "link", "set", "eth0", "up")
        self.run("ip", "link", "set", "lo", "up")

    def run(self, *command: str) -> None:
        """Runs a short command in the namespace and waits for it."""
        ip("netns", "exec", self.netns, *command)

    def start(
        self, command: list[str], env: Mapping[str, str], log: Path, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Starts a long-running process in the namespace, its output in `log`."""
        with open(log, "ab") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, *command],
                env=dict(env),
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def pids(self) -> list[int]:
        """Every process in the namespace now, children included."""
        return namespace_pids(self.netns)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the processes running in the namespace."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / TICKS

    def cut_off(self) -> None:
        """The host's link goes down: its processes run on and reach nothing."""
        self.run("ip", "link", "set", "eth0", "down")

    def kill(self) -> None:
        """The host dies: every process in it killed at once, its link down."""
        kill_all(self.pids())
        self.cut_off()

    def stop(self) -> None:
        """Stops its processes politely, then firmly, and removes the namespace."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        kill_all(self.pids())
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)


def namespace_pids(netns: str) -> list[int]:
    """Every process in a namespace now, children included."""
    done = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True)
    return [int(pid) for pid in done.stdout.split()]


def kill_all(pids: list[int]) -> None:
    """SIGKILL to each process still there."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def remove_leftovers() -> None:
    """Removes the bridge and namespaces a killed earlier run left behind."""
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    for line in done.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX):
            kill_all(namespace_pids(name))
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
    # A namespace outlives its name while the kernel still holds a socket of it: its link's
    # outer end is removed here, or the next run could not make one of the same name.
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    for line in links.stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(PREFIX):
            subprocess.run(["ip", "link", "del", name], capture_output=True)


def check_possible() -> None:
    """Raises HostsUnavailable saying why when this machine cannot make hosts."""
    if os.geteuid() != 0:
        raise HostsUnavailable("the cluster test makes network namespaces: run it as root")
    if shutil.which("ip") is None:
        raise HostsUnavailable("the cluster test needs `ip`: apt-get install iproute2")


@contextmanager
def hosts(names: list[str]) -> Iterator[dict[str, Host]]:
    """Hosts named `names` on the bridge, the harness at SUBNET.1; removed afterwards."""
    check_possible()
    remove_leftovers()
    ip("link", "add", BRIDGE, "type", "bridge")
    made: dict[str, Host] = {}
    try:
        ip("addr", "add", f"{SUBNET}.1/24", "dev", BRIDGE)
        ip("link", "set", BRIDGE, "up")
        for number, name in enumerate(names, start=11):
            made[name] = Host(name, number)
        yield made
    finally:
        for host in made.values():
            host.stop()
        remove_leftovers()
