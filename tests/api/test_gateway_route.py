"""`GatewayRoute`: a plain endpoint runs in the thread pool once per request, its answer validated on the
event loop (FastAPI's own route class goes to the pool a second time to validate it)."""

from __future__ import annotations

import threading

import fastapi.routing
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from sandbox_gateway.routing import GatewayRoute


class Answer(BaseModel):
    value: int
    thread: str


def _app(route_class: type[fastapi.routing.APIRoute]) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.get("/double/{value}")
    def double(value: int) -> Answer:
        return Answer(value=2 * value, thread=threading.current_thread().name)

    app = FastAPI()
    app.include_router(router)
    return app


@pytest.mark.parametrize(("route_class", "validations_in_the_pool"), [(GatewayRoute, 0), (fastapi.routing.APIRoute, 1)])
def test_a_plain_endpoint_goes_to_the_thread_pool_once(
    monkeypatch: pytest.MonkeyPatch, route_class: type[fastapi.routing.APIRoute], validations_in_the_pool: int
) -> None:
    trips: list[str] = []
    in_pool = fastapi.routing.run_in_threadpool

    async def counted(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        trips.append(getattr(func, "__name__", repr(func)))
        return await in_pool(func, *args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "run_in_threadpool", counted)  # FastAPI's own trips to the pool
    with TestClient(_app(route_class)) as client:
        answer = client.get("/double/21")
        assert client.get("/double/x").status_code == 422  # the parameters are still FastAPI's to check
    assert answer.status_code == 200
    assert answer.json()["value"] == 42
    assert answer.json()["thread"].startswith("AnyIO worker thread")  # in the pool, not on the event loop
    assert trips.count("validate") == validations_in_the_pool
