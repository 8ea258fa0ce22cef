"""Positions and cap table of a 10,000-holder security through the gateway (HTTP), read from the read
model (target: positions p99 <= 100 ms).

One server process builds the demo market on an embedded chain, indexes it into a SQLite read model
(`create_app(settings, market=, read_model=)`), then adds 10,000 synthetic holders of THAMES28 to the
read model's tables (investors in GB and US in every category, a tenth with a second wallet, each
with two or three balance changes over the demo's blocks) and serves the gateway with uvicorn. The
holders are written straight into the read model, as in `bench.readmodel_positions`: registering and
minting to 10,000 investors on the embedded chain would take about ten minutes. Everything a request
does is real: authentication, scope, the read model's catch-up check against the chain, the queries,
pagination, JSON.

The client (this process) sends the requests one after the other and reports wall-clock p50/p99, and
the server process's CPU time per request (steadier than the wall clock on a shared machine).

    .venv/bin/python -m bench.gateway_positions [--holders 10000] [--queries 100]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import random
import socket
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

SECURITY = "THAMES28"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _synthesise(model: object, contract_address: str, registry: str, holders: int, head: int) -> None:
    from eth_utils import to_checksum_address
    from sqlalchemy import insert, select

    from sandbox.readmodel import ReadModel
    from sandbox.readmodel._schema import BalancePeriod, ContractRow, InvestorRow, InvestorVersion, WalletRow
    from sandbox.rules import CATEGORIES_BY_JURISDICTION, Jurisdiction

    assert isinstance(model, ReadModel)
    rng = random.Random(6)

    def address(n: int) -> str:
        return str(to_checksum_address(f"0x{n:040x}"))

    with model.session() as session:
        contract_id = session.scalar(select(ContractRow.id).where(ContractRow.address == contract_address))
    assert contract_id is not None
    investors, versions, wallets, periods = [], [], [], []
    for i in range(holders):
        identity = address(0x10_0000 + i)
        jurisdiction = Jurisdiction.GB if i % 2 else Jurisdiction.US
        categories = sorted(CATEGORIES_BY_JURISDICTION[jurisdiction])
        category = int(categories[i % len(categories)])
        row = {
            "identity": identity,
            "registry_address": registry,
            "jurisdiction": int(jurisdiction),
            "category": category,
            "status": 1,
            "kyc_valid_until": 2_000_000_000,
            "registered_block": 1,
        }
        investors.append(row)
        versions.append(
            {
                "identity": identity,
                "jurisdiction": int(jurisdiction),
                "category": category,
                "status": 1,
                "kyc_valid_until": 2_000_000_000,
                "block_number": 1,
                "tx_index": 0,
                "log_index": i,
            }
        )
        own = [identity] + ([address(0x80_0000 + i)] if i % 10 == 3 else [])
        for wallet in own:
            wallets.append({"wallet": wallet, "identity": identity, "block_number": 1})
            changes = sorted(rng.sample(range(1, head + 1), rng.randint(2, 3)))
            for n, block in enumerate(changes):
                periods.append(
                    {
                        "contract_id": contract_id,
                        "wallet": wallet,
                        "from_block": block,
                        "to_block": changes[n + 1] if n + 1 < len(changes) else None,
                        "balance": rng.randint(1, 10_000),
                        "investor": identity,
                    }
                )
    with model.session() as session:
        session.execute(insert(InvestorRow), investors)
        session.execute(insert(InvestorVersion), versions)
        session.execute(insert(WalletRow), wallets)
        for start in range(0, len(periods), 5_000):
            session.execute(insert(BalancePeriod), periods[start : start + 5_000])


def _server(control: Connection, port: int, holders: int, folder: str) -> None:
    import uvicorn

    from sandbox.chain.embedded import EmbeddedChain
    from sandbox.market import load_scenario
    from sandbox.readmodel import ReadModel
    from sandbox.scenario import DEMO_SCENARIO, Scenario
    from sandbox_gateway.app import create_app
    from sandbox_gateway.settings import Settings

    market = load_scenario(EmbeddedChain(num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    model = ReadModel.sqlite(Path(folder) / "readmodel.sqlite")
    app = create_app(Settings(), market=market, read_model=model)  # indexes the demo's blocks
    head = model.last_indexed_block()
    assert head is not None
    _synthesise(model, market.security(SECURITY).address, market.registry.address, holders, head)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    control.send(("ready", head))
    while control.recv() == "cpu":  # the server process's CPU time, for CPU per request
        control.send(time.process_time())
    server.should_exit = True
    thread.join(timeout=10)
    model.close()


def _percentile(values: list[float], q: float) -> float:
    return values[max(0, math.ceil(q * len(values)) - 1)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--holders", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv if argv is not None else [])

    from sandbox.scenario import DEMO_SCENARIO, Scenario

    scenario = Scenario.from_file(DEMO_SCENARIO)
    keys = {p.key: p.api_key for p in [*scenario.regulators, *scenario.issuers]}
    ctx = mp.get_context("spawn")
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        control, server_end = ctx.Pipe()
        server = ctx.Process(target=_server, args=(server_end, port, args.holders, folder))
        server.start()
        _, head = control.recv()
        past = head // 2
        cases = [
            ("positions, first page (100), home regulator", "fca", f"/securities/{SECURITY}/positions", {}),
            ("positions, first page, issuer", "thames", f"/securities/{SECURITY}/positions", {}),
            ("positions, first page, foreign regulator", "sec", f"/securities/{SECURITY}/positions", {}),
            (
                "positions, page at offset 9,000",
                "fca",
                f"/securities/{SECURITY}/positions",
                {"offset": 9_000},
            ),
            ("positions as of a past block", "fca", f"/securities/{SECURITY}/positions", {"block": past}),
            ("cap table, home regulator", "fca", f"/securities/{SECURITY}/cap-table", {}),
            ("cap table, foreign regulator", "sec", f"/securities/{SECURITY}/cap-table", {}),
            ("cap table as of a past block", "fca", f"/securities/{SECURITY}/cap-table", {"block": past}),
        ]
        print(
            f"{args.holders:,} synthetic holders of {SECURITY} (+ the demo's) in a SQLite read model; "
            f"{args.queries} sequential requests per case; load average {os.getloadavg()[0]:.1f}"
        )
        try:
            _measure(port, cases, args.queries, keys, control)
        finally:
            control.send("stop")
            server.join()
    print(f"  load average after: {os.getloadavg()[0]:.1f}")


def _measure(
    port: int,
    cases: list[tuple[str, str, str, dict[str, int]]],
    queries: int,
    keys: dict[str, str],
    control: Connection,
) -> None:
    def server_cpu() -> float:
        control.send("cpu")
        return float(control.recv())

    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        for label, who, path, params in cases:
            headers = {"Authorization": f"Bearer {keys[who]}"}
            response = http.get(path, params=params, headers=headers)  # warm-up, and a check
            if response.status_code != 200:
                raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
            body = response.json()
            size = body["page"]["total"] if "page" in body else body["holders"]
            wall: list[float] = []
            cpu_before = server_cpu()
            for _ in range(queries):
                t0 = time.perf_counter()
                response = http.get(path, params=params, headers=headers)
                wall.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
            cpu = (server_cpu() - cpu_before) * 1000 / queries
            wall.sort()
            print(
                f"  {label:<46} p50 {_percentile(wall, 0.5):6.1f} ms  p99 {_percentile(wall, 0.99):6.1f} ms"
                f"  max {wall[-1]:6.1f} ms  server CPU {cpu:5.1f} ms/request  ({size:,} in scope)",
                flush=True,
            )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
