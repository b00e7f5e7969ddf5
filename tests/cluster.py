"""The project on several hosts (tests/hosts.py), for `make cluster-test` and bench/cluster.py:
a Redis primary, its replica and three Sentinels spread over three hosts, and app hosts that each
run what `make run` runs (web, worker, Rasa, actions), signed in to the primary the Sentinels
name. Pages post to one app host and, when it does not answer, to another, as behind a load
balancer; what they were answered is read from Redis afterwards."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
import yaml
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from bot.privacy import conversation_id
from bot.redis_server import server_args, wait
from bot.store import conversation_key, web_key
from tests.hosts import Host, hosts
from tests.servers import (
    MESSAGE_KEY,
    PYTHON,
    RASA,
    REDIS_PASSWORDS,
    ROOT,
    SENTINEL_MASTER,
    environment,
    in_sync,
    replica_args,
    sentinel_config,
    wait_http,
)

MODEL = ROOT / "models" / "assistant.tar.gz"
REDIS_HOSTS = ("redis-a", "redis-b", "redis-c")
REDIS_PORT = 6379
SENTINEL_PORT = 26379
WEB_PORT = 8000
WEB_INTERNAL_PORT = 9101
WORKER_INTERNAL_PORT = 9102
RASA_PORT = 5005
ACTIONS_PORT = 5055
ID_SECRET = "cluster-test-id-secret"
# Sentinel's timings, as the production values set them: a primary that has not answered for
# DOWN_AFTER_MS is failed over.
SENTINEL = yaml.safe_load((ROOT / "deploy" / "k8s" / "redis" / "values.yaml").read_text())[
    "sentinel"
]
DOWN_AFTER_MS = int(SENTINEL["downAfterMilliseconds"])
FAILOVER_TIMEOUT_MS = int(SENTINEL["failoverTimeout"])


@dataclass
class Cluster:
    """The running hosts: three for Redis, the app hosts, and where the logs are."""

    hosts: dict[str, Host]
    apps: list[Host]
    logs: Path

    def web_url(self, host: Host) -> str:
        """The web process of an app host, as a load balancer reaches it."""
        return f"http://{host.address}:{WEB_PORT}"

    def __post_init__(self) -> None:
        """The harness's one client of the Sentinels: a dead one is skipped at once, as the
        gateway's are (bot/redis_client.py), and the admin's connection to the primary."""
        found = [(self.hosts[name].address, SENTINEL_PORT) for name in REDIS_HOSTS]
        quick = {
            "socket_timeout": 0.5,
            "socket_connect_timeout": 0.5,
            "retry": Retry(NoBackoff(), 0),
        }
        self.sentinels = Sentinel(found, sentinel_kwargs=quick)
        self.admin = self.sentinels.master_for(
            SENTINEL_MASTER,
            username="admin",
            password=REDIS_PASSWORDS["admin"],
            decode_responses=True,
            socket_timeout=5,
            socket_connect_timeout=2,
        )

    def primary_address(self) -> str | None:
        """The address the Sentinels name as the primary now (None while they name none)."""
        try:
            return str(self.sentinels.discover_master(SENTINEL_MASTER)[0])
        except redis.RedisError:
            return None

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process on every host."""
        return sum(host.cpu_seconds() for host in self.hosts.values())


def conv(client: str) -> str:
    """The conversation id the gateway gives a web chat page."""
    return conversation_id(ID_SECRET.encode(), "web", client)


def start_redis(made: dict[str, Host], data: Path, logs: Path) -> None:
    """The primary on redis-a, its replica on redis-b, a Sentinel on each of the three."""
    primary, replica = made["redis-a"], made["redis-b"]
    for host in (primary, replica):
        folder = data / host.name
        folder.mkdir()
        command = server_args(REDIS_PORT, folder, REDIS_PASSWORDS)
        command += ["--bind", host.address, "127.0.0.1"]
        if host is replica:
            command += replica_args(primary.address, REDIS_PORT)
        host.start(command, {}, logs / f"{host.name}-redis.log")
        if not wait(host.address, REDIS_PORT, 20):
            raise RuntimeError(f"Redis on {host.name} did not start")
    for name in REDIS_HOSTS:
        host = made[name]
        folder = data / f"{name}-sentinel"
        folder.mkdir()
        config = sentinel_config(
            folder,
            SENTINEL_PORT,
            f"{host.address} 127.0.0.1",
            (primary.address, REDIS_PORT),
            DOWN_AFTER_MS,
            FAILOVER_TIMEOUT_MS,
        )
        host.start(["redis-server", str(config), "--sentinel"], {}, logs / f"{name}-sentinel.log")
        if not wait(host.address, SENTINEL_PORT, 20):
            raise RuntimeError(f"the Sentinel on {name} did not start")
    in_sync(REDIS_PORT, host=replica.address)


def app_environment(made: dict[str, Host], host: Host) -> dict[str, str]:
    """The settings of an app host's processes: `make run`'s, with Redis behind the Sentinels."""
    sentinels = ",".join(f"{made[name].address}:{SENTINEL_PORT}" for name in REDIS_HOSTS)
    return {
        **environment(REDIS_PORT, ACTIONS_PORT),
        "REDIS_HOST": made["redis-a"].address,
        "REDIS_SENTINELS": sentinels,
        "REDIS_MASTER_NAME": SENTINEL_MASTER,
        "MESSAGE_KEY": MESSAGE_KEY,
        "ID_SECRET": ID_SECRET,
        "RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
        "BOT_HOST": "0.0.0.0",
        "BOT_PORT": str(WEB_PORT),
        # The probes, reachable from the harness as a load balancer's health checks would be.
        "METRICS_HOST": "0.0.0.0",
        "METRICS_PORT": str(WEB_INTERNAL_PORT),
        "WORKER_PORT": str(WORKER_INTERNAL_PORT),
        "WORKER_NAME": host.name,
        # Every page of the test posts from the harness's one address.
        "LIMIT_WEB_ADDRESS": "100000/10",
        "LIMIT_WEB_ADDRESS_MINUTE": "100000/60",
        "LIMIT_WEB_PAGES": "100000/60",
    }


def start_app(made: dict[str, Host], host: Host, logs: Path) -> None:
    """Actions, Rasa, web and worker on one app host, as the Procfile starts them."""
    env = app_environment(made, host)
    rasa_command = [str(RASA), "run", "--interface", "127.0.0.1", "--port", str(RASA_PORT)]
    rasa_command += ["--model", str(MODEL), "--endpoints", "endpoints.yml"]
    rasa_command += ["--credentials", "credentials.yml"]
    actions = [str(RASA), "run", "actions", "--port", str(ACTIONS_PORT), "--actions", "actions"]
    host.start(actions, env, logs / f"{host.name}-actions.log", cwd=ROOT)
    host.start(rasa_command, env, logs / f"{host.name}-rasa.log", cwd=ROOT)
    host.start([str(PYTHON), "-m", "handoff.web"], env, logs / f"{host.name}-web.log", cwd=ROOT)
    host.start([str(PYTHON), "-m", "bot.worker"], env, logs / f"{host.name}-worker.log", cwd=ROOT)


@contextmanager
def cluster(app_hosts: int, logs: Path) -> Iterator[Cluster]:
    """Redis on three hosts and `app_hosts` app hosts, every process ready (Rasa's model loaded)."""
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    apps = [f"app-{number}" for number in range(1, app_hosts + 1)]
    with tempfile.TemporaryDirectory() as folder, hosts([*REDIS_HOSTS, *apps]) as made:
        start_redis(made, Path(folder), logs)
        running = Cluster(made, [made[name] for name in apps], logs)
        for host in running.apps:
            start_app(made, host, logs)
        for host in running.apps:
            for port in (WEB_INTERNAL_PORT, WORKER_INTERNAL_PORT):
                # /ready: Redis and Rasa (its model loaded) both answer.
                if not wait_http(f"http://{host.address}:{port}/ready", 300):
                    raise RuntimeError(f"{host.name} is not ready on {port}: see {logs}")
        yield running


@dataclass
class Load:
    """What the pages did: when each message was accepted, and how often a post failed."""

    accepted: dict[tuple[str, int], float] = field(default_factory=dict)
    refused: list[tuple[str, int]] = field(default_factory=list)
    failed_posts: int = 0


async def converse(
    running: Cluster, clients: list[str], messages: int, gap: float, give_up: float = 120.0
) -> Load:
    """Each client sends `messages` numbered messages, one every `gap` seconds (jittered), to an
    app host of its own first; a post that fails or times out goes to the next host with the same
    message id (the gateway takes a message once), until accepted or `give_up` seconds pass."""
    load = Load()
    timeout = httpx.Timeout(5.0, connect=2.0)

    async def page(index: int, client: str, http: httpx.AsyncClient) -> None:
        order = (
            running.apps[index % len(running.apps) :] + running.apps[: index % len(running.apps)]
        )
        await asyncio.sleep(random.uniform(0, gap))
        for number in range(1, messages + 1):
            body = {"client": client, "id": f"m{number}", "text": f"ขอบคุณครับ {number}"}
            deadline = time.monotonic() + give_up
            while time.monotonic() < deadline:
                host = order[0]
                try:
                    response = await http.post(f"{running.web_url(host)}/chat/messages", json=body)
                    if response.status_code == 202:
                        load.accepted[(client, number)] = time.time()
                        break
                except httpx.HTTPError:
                    pass
                load.failed_posts += 1
                order.append(order.pop(0))
                await asyncio.sleep(0.2)
            else:
                load.refused.append((client, number))
            await asyncio.sleep(gap * random.uniform(0.8, 1.2))

    async with httpx.AsyncClient(timeout=timeout) as http:
        await asyncio.gather(*(page(i, client, http) for i, client in enumerate(clients)))
    return load


def replies(admin: redis.Redis, client: str) -> list[tuple[int, float]]:
    """(message number answered, when the reply was stored) of a page, in the order stored."""
    found = admin.xrange(web_key(conv(client)))
    return [(int(fields["reply_to"]), int(entry.split("-")[0]) / 1000) for entry, fields in found]


def handled(admin: redis.Redis, client: str) -> int:
    """How many of a page's messages the workers have handled."""
    return int(admin.hget(conversation_key(conv(client)), "in_done") or 0)


def answered_all(running: Cluster, load: Load, clients: list[str], seconds: float) -> bool:
    """Waits until every accepted message has a reply stored; False after `seconds`."""
    deadline = time.monotonic() + seconds
    expected = {client: sum(1 for c, _ in load.accepted if c == client) for client in clients}
    while time.monotonic() < deadline:
        try:
            if all(running.admin.xlen(web_key(conv(c))) >= n for c, n in expected.items()):
                return True
        except redis.RedisError:
            pass
        time.sleep(1)
    return False
