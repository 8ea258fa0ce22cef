"""Compliant transfers through the gateway (HTTP, 1/4/8 concurrent clients) on each engine, against the
py-evm single-caller raw rate measured in the same run (issue 15's target: gateway >= 3x that rate).

For each engine (`--engines`, default `SANDBOX_ENGINE`'s) one server process builds the demo market on
an in-process chain of that engine and serves the gateway on it with uvicorn, as `sandbox serve` does.
The reference is a second process with the demo market on py-evm and no HTTP: one caller sending
transfers through the library, measured before the first HTTP run and after every one, so each ratio is
taken against the mean of the two raw rates around it (the machine is shared). The "CPU ratio" is the
reference's CPU time per raw transfer over the gateway server's CPU time per transfer: the ratio a
server with a core of its own would reach, less sensitive to other work on the machine. The HTTP
clients are separate processes (as real clients are), so they do not share the server's GIL; each is an
investor of the demo sending 1 unit of THAMES28 to another investor of the same jurisdiction, so every
transfer passes every rule of the security. With more clients than investors, investors send from two
clients at once (the chain orders their nonces).

Besides rates and p50/p99 latency, the server reports its CPU time per transfer, how much of it was
spent inside `Chain.transact` (signing, the EVM, mining, the receipt) versus everywhere else (HTTP, the
framework, validation, authentication, middleware), and transfers per block (group commit).

    .venv/bin/python -m bench.gateway_load [--transfers 240] [--clients 1,4,8] [--raw 200] [--engines revm,embedded]

The clients' pairs differ in cost: one client sends alice->bob only (a UK transfer, 50,757 gas); four and
eight send carol<->dan as well, US Rule 144A resales that also run the offering registry's lot checks
(`checkLots`, `moveLots`: 151,795-173,468 gas); the last line prints each pair's gas. With
``GATEWAY_PROFILE=<path prefix>`` the server profiles every thread it starts (`_thread_profiles`).
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


def _server(control: Connection, port: int, engine: str, serve: bool = True, read_model: bool = False) -> None:
    """Builds the market on an in-process chain of `engine`, then obeys `control`: "raw" (n) runs n
    library transfers, "mark" starts an HTTP phase's counters, "phase" ends it, "stop" ends the process.
    With `serve` false there is no HTTP server (the py-evm reference of a run on another engine). With
    `read_model` the gateway has a SQLite read model and its follower, as `sandbox serve` has."""
    import tempfile
    from pathlib import Path

    import uvicorn

    from sandbox.chain.factory import in_process_chain
    from sandbox.market import load_scenario
    from sandbox.readmodel import ReadModel
    from sandbox.scenario import DEMO_SCENARIO, Scenario
    from sandbox_gateway.app import create_app
    from sandbox_gateway.settings import Settings

    if os.environ.get("SWITCH_INTERVAL"):
        import sys

        sys.setswitchinterval(float(os.environ["SWITCH_INTERVAL"]))
    profiles = _thread_profiles() if os.environ.get("GATEWAY_PROFILE") else None
    market = load_scenario(in_process_chain(engine, num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    chain = market.chain
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

    model = ReadModel.sqlite(Path(tempfile.mkdtemp(prefix="bench-rm-")) / "readmodel.sqlite") if read_model else None
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Settings(), market=market, read_model=model),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    if serve:
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
        elif command == "gas":
            gas = {}
            for sender_key, receiver_key in PAIRS:
                receipt = token.transfer(market.accounts[receiver_key], 1, sender=market.accounts[sender_key])
                gas[f"{sender_key}->{receiver_key}"] = receipt.gas_used
            control.send(gas)
        elif command == "mark":
            mark = begin()
            control.send(None)
        elif command == "phase":
            phase = end(mark)
            if profiles is not None:
                _dump_profiles(profiles, f"{os.environ['GATEWAY_PROFILE']}.{engine}.{phase.transfers}.txt")
            control.send(phase)
        elif command == "stop":
            server.should_exit = True
            if serve:
                thread.join(timeout=10)
            control.send(None)
            return


def _thread_profiles() -> list[Any]:
    """With ``GATEWAY_PROFILE=<path prefix>`` set: a cProfile profiler, on each thread's CPU clock, in
    every thread started from now on (uvicorn's, the request worker threads, the read-model follower);
    after each HTTP phase the merged profile is written to ``<prefix>.<engine>.<transfers>.txt`` and the
    profilers restart. A diagnosis aid: profiling slows the server."""
    import cProfile

    profiles: list[Any] = []

    def start(*_args: Any) -> None:
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()

    threading.setprofile(start)
    return profiles


def _dump_profiles(profiles: list[Any], path: str) -> None:
    import io
    import pstats

    out = io.StringIO()
    for profile in profiles:
        profile.disable()
    stats = pstats.Stats(*profiles, stream=out) if profiles else None
    if stats is not None:
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
    with open(path, "w") as f:
        f.write(out.getvalue())
    for profile in profiles:
        profile.clear()  # type: ignore[attr-defined]
        profile.enable()


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


def _rate(phase: Phase) -> float:
    return phase.transfers / phase.wall


def _cpu_per_transfer(phase: Phase) -> float:
    return phase.cpu / max(phase.transfers, 1)


class _Server:
    """A server process (module docstring) and its control pipe."""

    def __init__(self, ctx: Any, engine: str, *, serve: bool, read_model: bool = False) -> None:
        self.engine = engine
        self.port = _free_port()
        self.control, server_end = ctx.Pipe()
        self.process = ctx.Process(target=_server, args=(server_end, self.port, engine, serve, read_model))
        self.process.start()
        _, self.pid, self.wallets = self.control.recv()

    def raw(self, transfers: int) -> Phase:
        self.control.send(("raw", transfers))
        phase: Phase = self.control.recv()
        return phase

    def gas(self) -> dict[str, int]:
        """Gas of one transfer of each pair the clients send (client i sends PAIRS[i % 4])."""
        self.control.send(("gas", None))
        gas: dict[str, int] = self.control.recv()
        return gas

    def stop(self) -> None:
        self.control.send(("stop", None))
        self.control.recv()
        self.process.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transfers", type=int, default=240, help="transfers per HTTP run (split among clients)")
    parser.add_argument("--clients", default="1,4,8", help="client counts, comma-separated")
    parser.add_argument("--raw", type=int, default=200, help="library transfers in each py-evm raw measurement")
    parser.add_argument(
        "--engines",
        default=None,
        help="engines the gateway runs on, comma-separated (embedded = py-evm, revm); default: SANDBOX_ENGINE's",
    )
    parser.add_argument(
        "--read-model",
        action="store_true",
        help="give the gateway a SQLite read model and its follower, as `sandbox serve` does (a write is then "
        "acknowledged once indexed: Settings.acknowledge_indexed_seconds)",
    )
    argv = argv if argv is not None else []
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.clients.split(",") if c]

    from bench._machine import header, load_average
    from sandbox.chain.factory import EMBEDDED, default_engine
    from sandbox.scenario import DEMO_SCENARIO, Scenario

    engines = [e.strip() for e in (args.engines or default_engine()).split(",") if e.strip()]
    keys = {i.key: i.api_key for i in Scenario.from_file(DEMO_SCENARIO).investors if i.api_key}
    ctx = mp.get_context("spawn")
    print(header("bench.gateway_load", argv), flush=True)
    # The reference: py-evm, one caller through the library, in a process of its own (no HTTP), measured
    # before and after every HTTP run of every engine, so each ratio is against the raw rate next to it.
    reference = _Server(ctx, EMBEDDED, serve=False)
    raws = [reference.raw(args.raw)]
    results: list[tuple[str, Run, Phase, Phase]] = []
    for engine in engines:
        server = _Server(ctx, engine, serve=True, read_model=args.read_model)
        for clients in counts:
            run = _http_run(ctx, server.control, server.port, keys, server.wallets, clients, args.transfers)
            raws.append(reference.raw(args.raw))
            results.append((engine, run, raws[-2], raws[-1]))
        server.stop()
    gas = reference.gas()
    reference.stop()

    print(f"{SECURITY} compliant transfers (every rule of the demo bond), demo market; HTTP clients are separate")
    print("processes; the py-evm raw reference is one caller through the library, in its own process, measured")
    print("before and after each HTTP run (the ratio is against the mean of the two)")
    print("  py-evm raw, one caller:     " + "  ".join(f"{_rate(p):6.1f}/s" for p in raws))
    print(f"    {_per_transfer(raws[0])}")
    print(
        "| engine | clients | gateway transfers/s | py-evm raw around | ratio (target >= 3) | CPU ratio | "
        "p50 / p99 latency | server CPU ms/transfer (in transact + elsewhere) | transfers/block |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |")
    for engine, run, before, after in results:
        raw = (_rate(before) + _rate(after)) / 2
        raw_cpu = (_cpu_per_transfer(before) + _cpu_per_transfer(after)) / 2
        n = max(run.server.transfers, 1)
        inside, outside = run.server.cpu_in_transact, run.server.cpu - run.server.cpu_in_transact
        print(
            f"| {engine} | {run.clients} | {run.rate:.1f} | {raw:.1f} | {run.rate / raw:.2f} | "
            f"{raw_cpu / _cpu_per_transfer(run.server):.2f} | {run.p50_ms:.1f} / {run.p99_ms:.1f} ms | "
            f"{1000 * run.server.cpu / n:.2f} ({1000 * inside / n:.2f} + {1000 * outside / n:.2f}) | "
            f"{run.server.transfers / max(run.server.blocks, 1):.2f} |"
        )
    print(f"load average at end (/proc/loadavg): {load_average()}")
    print(
        "gas of one transfer per pair (1 client sends the first pair only; 4 and 8 clients send all four, so "
        "their transfers cost more on average): " + ", ".join(f"{pair} {used:,}" for pair, used in gas.items())
    )
    print(
        "(ratio: gateway transfers/s over the py-evm raw rate around it, wall clock; CPU ratio: py-evm raw server "
        "CPU per transfer over the gateway server's CPU per transfer, the ratio with a core per process)"
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
