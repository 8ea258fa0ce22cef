"""The gateway's route class: a plain (`def`) endpoint costs one trip to the thread pool, not two.

FastAPI runs a plain endpoint in the thread pool, and then validates and serialises its answer in the pool
again (it does it on the event loop only for `async def` endpoints). The second trip costs about 0.2 ms of
server CPU per request, a tenth of a transfer's (bench/RESULTS.md, "Gateway throughput"). `GatewayRoute`
hands FastAPI an `async def` that awaits the plain endpoint in the pool: the endpoint still never blocks
the event loop, and its answer, a model it built, is validated where FastAPI validates an `async def`'s.
The wrapper keeps the endpoint's signature (`functools.wraps`), which is all FastAPI reads to inject the
parameters and to find the response model; every router of the gateway uses it (``route_class=``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


class GatewayRoute(APIRoute):
    """An `APIRoute` whose plain endpoint runs in the thread pool once per request (see the module)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _awaiting_in_thread_pool(endpoint), **kwargs)


def _awaiting_in_thread_pool(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint` itself if it is a coroutine or generator function (or not a function); otherwise an
    `async def` with its signature that runs it in the thread pool."""
    if not inspect.isfunction(endpoint) or (
        inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
    ):
        return endpoint

    @functools.wraps(endpoint)
    async def in_thread_pool(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return in_thread_pool
