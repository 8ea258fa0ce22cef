"""Positions and cap table of a 10,000-holder security through the gateway (HTTP), read from the read
model (target: positions p99 <= 100 ms).

One server process builds the demo market on an embedded chain, indexes it into a SQLite read model
(`create_app(settings, market=, read_model=)`), then adds 10,000 synthetic holders of THAMES28 to the
read model's tables (investors in GB and US in every category, a tenth with a second wallet, each
with two or three balance changes over the demo's blocks) and serves the gateway with uvicorn. The
holders are written straight into the read model, as in `bench.readmodel_positions`: registering and
minting to 10,000 investors on the embedded chain would take about ten minutes. Everything a request
does is real: authentication, scope, the wait for the caller's block (`MarketReadModel.reach`), the
queries, pagination, JSON. The read model's follower thread indexes what the writers mine. A read of
"now" waits for the writes it must reflect (``SANDBOX_READ_AFTER``: by default every write the gateway
acknowledged before it; with ``caller`` only its caller's own, none here: the readers are regulators and
the issuer) and answers as of the block the read model holds, which the response names; a read as of a
past block waits only for that block. Under writers each case also prints the follower's rounds (wall
time, the follower thread's CPU time, blocks indexed per round): in the default scope a read of "now"
waits for the round that indexes the newest acknowledged write.

The client (this process) sends the requests one after the other and reports wall-clock p50/p99, and
the server process's CPU time per request (steadier than the wall clock on a shared machine; while
writers run it includes theirs, so it is reported for the quiet pass only).

With ``--writers 8`` (the default) every case is measured twice: first with no other traffic, then while
8 HTTP clients (separate processes, as in `bench.gateway_load`) send compliant THAMES28 transfers
through the same gateway as fast as it answers them: the reads must not wait on the writes (the issue's
target: p99 <= 100 ms while 8 clients send transfers). The writers' rate over the loaded pass is printed.
Then, still under load, read-your-writes from the writer's side: an investor sends a transfer and at once
reads its own positions (timed: the read, which waits for the read model to index the transfer's block).

Which answers can be reused (`ReadModel.answers`, a bounded LRU keyed on the database state an answer
was read from; each case prints its hits and misses): a page or cap table *as of a past block* is the
same until the read model is rebuilt or a wallet is linked (neither happens here), so after its first
request every one is a hit, under writers too. A *now* answer is reused only while the read model holds
the same indexed state (no round of the follower in between): in the quiet pass every request after the
first is a hit; under writers, only the requests that arrive before the follower's next round. With
``--answer-cache 0`` nothing is reused: every request computes its answer (the cost of a miss).

    .venv/bin/python -m bench.gateway_positions [--holders 10000] [--queries 100] [--writers 8] [--engine revm]
        [--answer-cache 128]

``SWITCH_INTERVAL=0.001`` sets the server process's GIL switch interval (`sys.setswitchinterval`).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import random
import socket
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
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


def _server(
    control: Connection, port: int, holders: int, folder: str, engine: str | None = None, answer_cache: int = 128
) -> None:
    import uvicorn

    from sandbox.chain.factory import in_process_chain
    from sandbox.market import load_scenario
    from sandbox.readmodel import ReadModel
    from sandbox.scenario import DEMO_SCENARIO, Scenario
    from sandbox_gateway.app import create_app
    from sandbox_gateway.settings import Settings

    if os.environ.get("SWITCH_INTERVAL"):  # the GIL's switch interval in the server process (default 0.005 s)
        sys.setswitchinterval(float(os.environ["SWITCH_INTERVAL"]))
    market = load_scenario(in_process_chain(engine, num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    model = ReadModel.sqlite(Path(folder) / "readmodel.sqlite", answer_cache=answer_cache)
    app = create_app(Settings(), market=market, read_model=model)  # indexes the demo's blocks
    head = model.last_indexed_block()
    assert head is not None
    _synthesise(model, market.security(SECURITY).address, market.registry.address, holders, head)
    # How long each request's read waited for the read model (`MarketReadModel.reach`: for the blocks its
    # caller asked for; the readers here wrote nothing, so they should not wait for the writers at all).
    live = app.state.read_side
    reach, waits = live.reach, []

    def timed_reach(*args: object, **kwargs: object) -> int:
        started = time.perf_counter()
        try:
            return int(reach(*args, **kwargs))
        finally:
            waits.append(time.perf_counter() - started)

    live.reach = timed_reach
    # The follower's rounds (`MarketReadModel.catch_up`): wall time, the thread's CPU time, blocks indexed.
    catch_up, rounds = live.catch_up, []

    def timed_catch_up(*args: object, **kwargs: object) -> int:
        started, cpu, before = time.perf_counter(), time.thread_time(), live.indexed_block()
        indexed = int(catch_up(*args, **kwargs))
        rounds.append((time.perf_counter() - started, time.thread_time() - cpu, indexed - before))
        return indexed

    live.catch_up = timed_catch_up
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    control.send(("ready", head, {k: market.accounts[k] for k in ("alice", "bob", "carol", "dan")}))
    while (command := control.recv()) in ("cpu", "waits", "head", "answers", "rounds"):
        if command == "cpu":  # the server process's CPU time, for CPU per request
            control.send(time.process_time())
        elif command == "head":
            control.send(market.chain.block_number())
        elif command == "rounds":  # the follower's rounds since the last ask
            control.send(list(rounds))
            rounds.clear()
        elif command == "answers":  # reused answers so far: (hits, misses)
            control.send((model.answers.hits, model.answers.misses))
        else:
            control.send(list(waits))
            waits.clear()
    server.should_exit = True
    thread.join(timeout=10)
    model.close()


def _percentile(values: list[float], q: float) -> float:
    return values[max(0, math.ceil(q * len(values)) - 1)]


def _writer(port: int, api_key: str, receiver: str, go: Event, stop: Event, results: Connection) -> None:
    """One writing client: transfers of 1 unit, one after the other, from `go` until `stop`."""
    import httpx

    sent = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        http.get("/health")
        go.wait()
        started = time.perf_counter()
        while not stop.is_set():
            response = http.post(
                f"/securities/{SECURITY}/transfers",
                json={"to": receiver, "amount": 1},
                headers={"Authorization": f"Bearer {api_key}"},
            )
            if response.status_code != 201:
                results.send(("error", response.text[:300]))
                return
            sent += 1
        results.send(("ok", (sent, time.perf_counter() - started)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--holders", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--writers", type=int, default=8, help="HTTP clients sending transfers (0: quiet pass only)")
    parser.add_argument("--engine", default=None, help="embedded (py-evm) or revm; default: SANDBOX_ENGINE's")
    parser.add_argument(
        "--answer-cache",
        type=int,
        default=None,
        help="answers the read model keeps for reuse (0: none; default: its own)",
    )
    argv = argv if argv is not None else []
    args = parser.parse_args(argv)

    from bench._machine import header, load_average
    from bench.gateway_load import PAIRS
    from sandbox.chain.factory import default_engine
    from sandbox.readmodel._model import DEFAULT_ANSWER_CACHE
    from sandbox.scenario import DEMO_SCENARIO, Scenario

    engine = args.engine or default_engine()
    answer_cache = DEFAULT_ANSWER_CACHE if args.answer_cache is None else args.answer_cache
    scenario = Scenario.from_file(DEMO_SCENARIO)
    keys = {p.key: p.api_key for p in [*scenario.regulators, *scenario.issuers]}
    investor_keys = {i.key: i.api_key for i in scenario.investors if i.api_key}
    ctx = mp.get_context("spawn")
    port = _free_port()
    print(header("bench.gateway_positions", argv), flush=True)
    from sandbox_gateway.settings import Settings

    read_after = Settings().read_after
    print(f"reads reflect the writes of: {read_after} (SANDBOX_READ_AFTER; gateway is the default)", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        control, server_end = ctx.Pipe()
        server = ctx.Process(target=_server, args=(server_end, port, args.holders, folder, engine, answer_cache))
        server.start()
        _, head, wallets = control.recv()
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
            f"engine {engine}; {args.holders:,} synthetic holders of {SECURITY} (+ the demo's) in a SQLite read "
            f"model; {args.queries} sequential requests per case; answers kept for reuse: {answer_cache}"
        )
        try:
            print("no other traffic:", flush=True)
            _measure(port, cases, args.queries, keys, control)
            if args.writers:
                stop, go = ctx.Event(), ctx.Event()
                pipes, writers = [], []
                for i in range(args.writers):
                    sender, receiver = PAIRS[i % len(PAIRS)]
                    parent_end, child_end = ctx.Pipe(duplex=False)
                    process = ctx.Process(
                        target=_writer, args=(port, investor_keys[sender], wallets[receiver], go, stop, child_end)
                    )
                    process.start()
                    pipes.append(parent_end)
                    writers.append(process)
                go.set()
                time.sleep(2.0)  # the writers are under way
                print(f"while {args.writers} clients send transfers through the gateway:", flush=True)
                try:
                    _measure(port, cases, args.queries, keys, control, cpu=False)
                    _measure_own_reads(port, args.queries, investor_keys["alice"], wallets, control)
                finally:
                    stop.set()
                    sent, spent = 0, 0.0
                    for pipe in pipes:
                        status, payload = pipe.recv()
                        if status != "ok":
                            raise RuntimeError(f"a writer failed: {payload}")
                        sent += payload[0]
                        spent = max(spent, payload[1])
                    for process in writers:
                        process.join()
                print(f"  the writers sent {sent:,} transfers in {spent:.1f} s: {sent / spent:.1f}/s")
        finally:
            control.send("stop")
            server.join()
    print(f"load average at end (/proc/loadavg): {load_average()}")


def _measure(
    port: int,
    cases: list[tuple[str, str, str, dict[str, int]]],
    queries: int,
    keys: dict[str, str],
    control: Connection,
    *,
    cpu: bool = True,
) -> None:
    def server_cpu() -> float:
        control.send("cpu")
        return float(control.recv())

    def chain_head() -> int:
        control.send("head")
        return int(control.recv())

    def answers() -> tuple[int, int]:
        control.send("answers")
        hits, misses = control.recv()
        return int(hits), int(misses)

    def follower_rounds() -> str:
        control.send("rounds")
        done = [r for r in control.recv() if r[2] > 0]
        if not done:
            return "no round indexed a block"
        walls = sorted(1000 * r[0] for r in done)
        cpus = sorted(1000 * r[1] for r in done)
        blocks = sorted(r[2] for r in done)
        return (
            f"follower: {len(done)} rounds, wall p50 {_percentile(walls, 0.5):.1f}"
            f" p99 {_percentile(walls, 0.99):.1f} ms, "
            f"thread CPU p50 {_percentile(cpus, 0.5):.1f} ms, blocks per round p50 {_percentile(blocks, 0.5)}"
        )

    def catch_up_waits() -> list[float]:  # the reads' waits for the read model (`MarketReadModel.reach`)
        control.send("waits")
        return sorted(1000 * w for w in control.recv())

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
            reflected: list[int] = []
            reused_before = answers()
            cpu_before = server_cpu()
            catch_up_waits()
            follower_rounds()
            for _ in range(queries):
                t0 = time.perf_counter()
                response = http.get(path, params=params, headers=headers)
                wall.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
                reflected.append(int(response.headers["x-sandbox-indexed-block"]))
            spent = (server_cpu() - cpu_before) * 1000 / queries
            head = chain_head()
            hits, misses = (a - b for a, b in zip(answers(), reused_before, strict=True))
            waited = catch_up_waits() or [0.0]
            wall.sort()
            print(
                f"  {label:<46} p50 {_percentile(wall, 0.5):6.1f} ms  p99 {_percentile(wall, 0.99):6.1f} ms"
                f"  max {wall[-1]:6.1f} ms"
                + (f"  server CPU {spent:5.1f} ms/request" if cpu else "")
                + f"  wait p50 {_percentile(waited, 0.5):5.1f} p99 {_percentile(waited, 0.99):6.1f} ms"
                + f"  answered as of blocks {reflected[0]}..{reflected[-1]} (head then {head})"
                + f"  ({size:,} in scope; reused {hits}, computed {misses})"
                + ("" if cpu else f"\n    {follower_rounds()}"),
                flush=True,
            )


def _measure_own_reads(port: int, queries: int, api_key: str, wallets: dict[str, str], control: Connection) -> None:
    """A writer's read right after its own write: the transfer, then its positions (timed), which must
    reflect the transfer's block (`X-Sandbox-Indexed-Block`)."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"}
    control.send("waits")
    control.recv()
    wall: list[float] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, headers=headers) as http:
        for _ in range(queries):
            sent = http.post(f"/securities/{SECURITY}/transfers", json={"to": wallets["bob"], "amount": 1})
            sent.raise_for_status()
            t0 = time.perf_counter()
            response = http.get(f"/investors/{wallets['alice']}/positions")
            wall.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()
            if int(response.headers["x-sandbox-indexed-block"]) < sent.json()["block_number"]:
                raise RuntimeError("a writer's read did not reflect its own write")
    control.send("waits")
    waited = sorted(1000 * w for w in control.recv()) or [0.0]
    wall.sort()
    print(
        f"  {'own positions right after own transfer':<46} p50 {_percentile(wall, 0.5):6.1f} ms"
        f"  p99 {_percentile(wall, 0.99):6.1f} ms  max {wall[-1]:6.1f} ms"
        f"  wait p50 {_percentile(waited, 0.5):5.1f} p99 {_percentile(waited, 0.99):6.1f} ms"
        "  (every answer reflected the write)",
        flush=True,
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
