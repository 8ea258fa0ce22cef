"""Compliant transfers through the gateway (HTTP, several concurrent clients) against raw transfers
through the library, on the same embedded chain, in one run.

One server process builds the demo market on an embedded chain and serves the gateway on it with
uvicorn, as `sandbox serve` does. The raw rate is measured in that process, on that chain, through
the library (one caller: the chain has one ordered write path, so more callers add nothing), before
and after each HTTP run; each ratio is taken against the mean of the two raw rates around it. The
"CPU ratio" is the server process's CPU time per raw transfer over its CPU time per gateway transfer:
the ratio a server with a core of its own would reach, less sensitive to other work on the machine. The HTTP clients are
separate processes (as real clients are), so they do not share the server's GIL; each is an investor
of the demo sending 1 unit of THAMES28 to another investor of the same jurisdiction, so every
transfer passes every rule of the security. With more clients than investors, investors send from
two clients at once (the chain orders their nonces).

Besides rates, the server process reports its CPU time per transfer, and how much of it was spent
inside `Chain.transact` (signing, the EVM, mining, the receipt) versus everywhere else (HTTP, the
framework, validation, authentication, middleware).

    .venv/bin/python -m bench.gateway_load [--transfers 240] [--clients 1,4,8] [--raw 200]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import statistics
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier, Event
from typing import Any

#: (sender, receiver): UK to UK and US to US, so no transfer is cross-border.
PAIRS = [("alice", "bob"), ("bob", "alice"), ("carol", "dan"), ("dan", "carol")]
SECURITY = "THAMES28"


@dataclass
class Phase:
    """What the server process measured over one phase."""

    transfers: int
    wall: float
    cpu: float
    cpu_in_transact: float
    #: Blocks mined over the phase (group commit puts concurrent transfers in one block).
    blocks: int = 0


# ---------------------------------------------------------------- server process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server(control: Connection, port: int) -> None:
    """Builds the market, then obeys `control`: "raw" (n) runs n library transfers, "mark" starts an
    HTTP phase's counters, "phase" ends it, "stop" ends the process."""
    import uvicorn

    from sandbox.chain.embedded import EmbeddedChain
    from sandbox.chain.web3chain import Web3Chain
    from sandbox.market import load_scenario
    from sandbox.scenario import DEMO_SCENARIO, Scenario
    from sandbox_gateway.app import create_app
    from sandbox_gateway.settings import Settings

    if os.environ.get("SWITCH_INTERVAL"):
        import sys

        sys.setswitchinterval(float(os.environ["SWITCH_INTERVAL"]))
    market = load_scenario(EmbeddedChain(num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    chain = market.chain
    assert isinstance(chain, Web3Chain)
    counters = {"transfers": 0, "cpu_in_transact": 0.0, "head": 0}
    counters_lock = threading.Lock()
    transact = chain.transact

    def counted_transact(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return transact(*args, **kwargs)
        finally:
            spent = time.thread_time() - started
            with counters_lock:
                counters["transfers"] += 1
                counters["cpu_in_transact"] += spent

    chain.transact = counted_transact  # type: ignore[method-assign]

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Settings(), market=market), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    token = market.security(SECURITY)
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    control.send(("ready", os.getpid(), {k: market.accounts[k] for k, _ in PAIRS}))

    def begin() -> tuple[float, float]:
        with counters_lock:
            counters["transfers"] = 0
            counters["cpu_in_transact"] = 0.0
            counters["head"] = chain.block_number()
        return time.perf_counter(), time.process_time()

    def end(started: tuple[float, float]) -> Phase:
        wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
        with counters_lock:
            blocks = chain.block_number() - int(counters["head"])
            return Phase(int(counters["transfers"]), wall, cpu, float(counters["cpu_in_transact"]), blocks)

    mark = begin()
    while True:
        command, argument = control.recv()
        if command == "raw":
            mark = begin()
            for i in range(int(argument)):
                sender, receiver = (alice, bob) if i % 2 == 0 else (bob, alice)
                token.transfer(receiver, 1, sender=sender)
            control.send(end(mark))
        elif command == "mark":
            mark = begin()
            control.send(None)
        elif command == "phase":
            control.send(end(mark))
        elif command == "stop":
            server.should_exit = True
            thread.join(timeout=10)
            control.send(None)
            return


# ---------------------------------------------------------------- client processes


def _client(
    port: int, api_key: str, receiver: str, transfers: int, ready: Barrier, go: Event, results: Connection
) -> None:
    import httpx

    latencies: list[float] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        body = {"to": receiver, "amount": 1}
        headers = {"Authorization": f"Bearer {api_key}"}
        # One warm-up request opens the connection (not counted).
        http.get("/health")
        ready.wait()
        go.wait()
        for _ in range(transfers):
            t0 = time.perf_counter()
            response = http.post(f"/securities/{SECURITY}/transfers", json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 201:
                results.send(("error", response.text))
                return
    results.send(("ok", latencies))


@dataclass
class Run:
    clients: int
    rate: float
    p50_ms: float
    p99_ms: float
    server: Phase


def _http_run(
    ctx: Any, control: Connection, port: int, keys: dict[str, str], wallets: dict[str, str], clients: int, total: int
) -> Run:
    per_client = total // clients
    ready = ctx.Barrier(clients + 1)
    go = ctx.Event()
    pipes = []
    processes = []
    for i in range(clients):
        sender, receiver = PAIRS[i % len(PAIRS)]
        parent_end, child_end = ctx.Pipe(duplex=False)
        process = ctx.Process(
            target=_client, args=(port, keys[sender], wallets[receiver], per_client, ready, go, child_end)
        )
        process.start()
        pipes.append(parent_end)
        processes.append(process)
    ready.wait()
    control.send(("mark", None))
    control.recv()
    start = time.perf_counter()
    go.set()
    latencies: list[float] = []
    for pipe in pipes:
        status, payload = pipe.recv()
        if status != "ok":
            raise RuntimeError(f"a client failed: {payload}")
        latencies.extend(payload)
    wall = time.perf_counter() - start
    control.send(("phase", None))
    phase: Phase = control.recv()
    for process in processes:
        process.join()
    latencies.sort()
    return Run(
        clients=clients,
        rate=per_client * clients / wall,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        server=phase,
    )


def _per_transfer(phase: Phase) -> str:
    n = max(phase.transfers, 1)
    outside = phase.cpu - phase.cpu_in_transact
    return (
        f"server CPU {1000 * phase.cpu / n:5.2f} ms/transfer "
        f"(in Chain.transact {1000 * phase.cpu_in_transact / n:5.2f}, elsewhere {1000 * outside / n:5.2f}); "
        f"{phase.transfers / max(phase.blocks, 1):.2f} transfers per block"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transfers", type=int, default=240, help="transfers per HTTP run (split among clients)")
    parser.add_argument("--clients", default="1,4,8", help="client counts, comma-separated")
    parser.add_argument("--raw", type=int, default=200, help="library transfers in each raw measurement")
    args = parser.parse_args(argv if argv is not None else [])
    counts = [int(c) for c in args.clients.split(",") if c]

    from sandbox.scenario import DEMO_SCENARIO, Scenario

    keys = {i.key: i.api_key for i in Scenario.from_file(DEMO_SCENARIO).investors if i.api_key}
    ctx = mp.get_context("spawn")
    port = _free_port()
    control, server_end = ctx.Pipe()
    server = ctx.Process(target=_server, args=(server_end, port))
    server.start()
    _, server_pid, wallets = control.recv()
    print(f"server process {server_pid} on 127.0.0.1:{port}; load average {os.getloadavg()[0]:.1f}", flush=True)

    def raw_phase() -> Phase:
        control.send(("raw", args.raw))
        phase: Phase = control.recv()
        return phase

    # Raw before and after every HTTP run: the machine is shared, so each ratio is taken against the
    # raw rate measured next to it (the mean of the two around it).
    raws = [raw_phase()]
    runs = []
    for clients in counts:
        runs.append(_http_run(ctx, control, port, keys, wallets, clients, args.transfers))
        raws.append(raw_phase())
    control.send(("stop", None))
    control.recv()
    server.join()

    def rate(phase: Phase) -> float:
        return phase.transfers / phase.wall

    print(f"{SECURITY} compliant transfers, demo market on one embedded chain; clients are separate processes")
    print("  raw, through the library:  " + "  ".join(f"{rate(p):6.1f}/s" for p in raws))
    print(f"    {_per_transfer(raws[0])}")
    for n, run in enumerate(runs):
        raw = (rate(raws[n]) + rate(raws[n + 1])) / 2
        cpu_ratio = (raws[n].cpu / raws[n].transfers) / (run.server.cpu / max(run.server.transfers, 1))
        print(
            f"  gateway, {run.clients} client(s):    {run.rate:6.1f}/s  ratio {run.rate / raw:.2f} (raw around: "
            f"{raw:5.1f}/s)  CPU ratio {cpu_ratio:.2f}  latency p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
        )
        print(f"    {_per_transfer(run.server)}")
    print(f"  load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
