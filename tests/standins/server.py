"""What every stand-in server shares: a FastAPI app on a free 127.0.0.1 port, served in a thread
(tests) or in the caller's event loop (benchmarks)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Self

import uvicorn
from fastapi import FastAPI

from tests.servers import free_port


class StandInServer:
    """Serves `app()`; use as a context manager, or `serve_here` / `stop_here` inside a loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def app(self) -> FastAPI:
        """The stand-in's endpoints."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    async def serve_here(self) -> asyncio.Task[None]:
        """Runs the server in the calling event loop instead of a thread (for benchmarks, where a
        thread would compete with the client for the interpreter); returns its task."""
        task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        return task

    async def stop_here(self, task: asyncio.Task[None]) -> None:
        """Stops a server started with `serve_here`."""
        self._server.should_exit = True
        await task
