"""The throwaway PostgreSQL the tests start picks a port it cannot be handed bound: when another process takes
the port between the probe and postgres's bind (on a busy machine: another worker's server, a client's
ephemeral port), the server still starts, on another port, and is the one the tests then talk to."""

from __future__ import annotations

import itertools
import socket

import psycopg
import pytest

from sandbox.readmodel import pgserver

pytestmark = pytest.mark.postgres


def test_a_port_taken_before_postgres_binds_it_is_given_up_for_another(monkeypatch: pytest.MonkeyPatch) -> None:
    if pgserver.bindir() is None:
        pytest.fail("PostgreSQL is not installed: run `make postgres-server` (or `make test`)")
    with socket.socket() as taken:  # a listener that accepts connections and never answers them
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        probe = pgserver._free_port
        calls = itertools.count()
        # The race, made certain: the first port probed free is the taken one.
        monkeypatch.setattr(pgserver, "_free_port", lambda: port if next(calls) == 0 else probe())
        with pgserver.TemporaryPostgres() as server:
            assert server.port != port
            with psycopg.connect(host=server.host, port=server.port, user=server.user, dbname="postgres") as conn:
                row = conn.execute("SHOW data_directory").fetchone()
            assert row is not None and row[0].startswith(str(server._base))
