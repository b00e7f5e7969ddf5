"""A rolling update with the real processes: a new worker starts, the old one is told to stop
(SIGTERM) in the middle of the work, finishes the entries it is handling, leaves the ones it had
read to the new one and exits by itself; the web process told to stop finishes the requests it
has (uvicorn's graceful shutdown). Every accepted message is answered exactly once, in order."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from functools import partial

import httpx
import pytest

from bot.store import INBOUND, OUTBOUND, ROUTERS, SENDERS
from tests.gateway.conftest import Stack
from tests.gateway.test_pipeline import answered, expect_every_reply, send_all
from tests.gateway.test_two_workers import joined
from tests.servers import PYTHON, ROOT, free_port, stop, wait_http
from tests.waiting import until

pytestmark = pytest.mark.servers

CONVERSATIONS = 40
MESSAGES = 10


def test_a_worker_told_to_stop_hands_over_and_nothing_is_lost_or_repeated(stack: Stack) -> None:
    clients = [uuid.uuid4().hex for _ in range(CONVERSATIONS)]
    (old,) = stack.running_workers()
    old_name = stack.worker_names[old.pid]
    asyncio.run(send_all(stack, clients, MESSAGES))
    until(lambda: answered(stack, clients) > 0, what="the old worker to be at work")
    new_name = f"new-{uuid.uuid4().hex[:8]}"
    stack.worker(new_name)
    for stream, group in ((INBOUND, ROUTERS), (OUTBOUND, SENDERS)):
        until(partial(joined, stack, stream, group, (new_name,)), 60, f"the new worker in {group}")

    log = stack.logs / f"worker-{old_name}.log"
    before = log.stat().st_size
    old.send_signal(signal.SIGTERM)
    # It exits by itself (a kill after 60 s would fail here), not killed.
    assert old.wait(60) == 0
    at_exit = answered(stack, clients)
    assert at_exit < CONVERSATIONS * MESSAGES, "the stop came after the work: it proves nothing"
    said = log.read_bytes()[before:].decode(errors="replace")
    assert f"{old_name}: stopping" in said and f"{old_name}: stopped" in said
    assert "Traceback" not in said

    expect_every_reply(stack, clients, MESSAGES, seconds=240)
    for stream, group in ((INBOUND, ROUTERS), (OUTBOUND, SENDERS)):
        assert stack.redis.xpending(stream, group)["pending"] == 0, f"{group}: all acknowledged"


def test_a_web_process_told_to_stop_loses_no_accepted_message(stack: Stack) -> None:
    """Pages post to a second web process; it is told to stop while they do; a page whose post
    was not accepted sends it again to the first one, as a page behind a load balancer would."""
    port = free_port()
    env = {**stack.env, "BOT_PORT": str(port), "METRICS_PORT": str(free_port())}
    leaving_url = f"http://127.0.0.1:{port}"
    leaving = subprocess.Popen(
        [PYTHON, "-m", "handoff.web"],
        cwd=ROOT,
        env=env,
        stdout=open(stack.logs / "bot-leaving.log", "ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_http(f"{leaving_url}/ready", 60), "the second web process did not start"
        clients = [uuid.uuid4().hex for _ in range(CONVERSATIONS)]
        accepted_there: list[str] = []

        async def page(client: str, http: httpx.AsyncClient) -> None:
            for n in range(1, MESSAGES + 1):
                body = {"client": client, "id": f"m{n}", "text": f"ขอบคุณครับ {n}"}
                try:
                    response = await http.post(f"{leaving_url}/chat/messages", json=body)
                    if response.status_code == 202:
                        accepted_there.append(client)
                        continue
                except httpx.TransportError:
                    pass
                response = await http.post(f"{stack.url}/chat/messages", json=body)
                assert response.status_code == 202

        async def stop_when_busy() -> None:
            while len(accepted_there) < CONVERSATIONS:
                await asyncio.sleep(0.005)
            leaving.send_signal(signal.SIGTERM)

        async def everyone() -> None:
            async with httpx.AsyncClient(timeout=30) as http:
                await asyncio.gather(stop_when_busy(), *(page(c, http) for c in clients))

        asyncio.run(everyone())
        # Uvicorn ends by the signal it was sent (-15) once its graceful shutdown is over.
        assert leaving.wait(60) in (0, -signal.SIGTERM)
        said = (stack.logs / "bot-leaving.log").read_text(errors="replace")
        assert "Traceback" not in said
        total = CONVERSATIONS * MESSAGES
        assert CONVERSATIONS <= len(accepted_there) < total, "the stop came after the work"
        expect_every_reply(stack, clients, MESSAGES, seconds=240)
    finally:
        stop(leaving)
