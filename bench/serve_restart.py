"""Restart time of ``sandbox serve --data-dir`` after N transactions: ``python -m bench.serve_restart``.

Builds a data directory as `sandbox serve --data-dir` does (`sandbox.deployment.open_market`: the demo
loaded, checkpointed, deployment written), then sends compliant THAMES28 transfers in this process
(the same write path the gateway uses, without HTTP) and keeps the read model indexed, as the serving
process's follower does. At each checkpoint of the history it prints:

- the time from launching ``sandbox serve --data-dir`` to its first ``/health`` 200 (median of
  `--runs`, each stopped with SIGTERM; wall and the child's CPU seconds), and, for comparison, that of
  the in-memory ``sandbox serve`` (imports + loading the demo);
- inside that, measured in this process: opening the data directory (snapshot + journal replay +
  deployment) and the read model's catch-up, and how many journalled blocks were replayed.

Restart replays only the journal since the newest snapshot (`EmbeddedChain` snapshots every 250
blocks, after 10 idle minutes, and on a graceful close), so each point is measured twice: from a crash
image (a copy of the open directory) and after a graceful stop (nothing to replay). The crash image is
the worst case: after the point's transactions, more are sent until the journal since the last snapshot
holds `--crash-journal` blocks (default 249, one short of a snapshot), and the line says how many
transactions it holds and how many blocks the opening replayed. (At round points the journal can be
empty: seeding ends with a snapshot, then every 250th block snapshots, so 1,500 and 10,500 transfers
would leave nothing to replay.) At the end: a read model rebuilt from scratch on the whole history
(what a start with a deleted ``readmodel.sqlite`` does). The engine is ``SANDBOX_ENGINE``'s.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench._machine import load_average
from sandbox.chain.factory import default_engine
from sandbox.chain.persistence import scan_journal
from sandbox.deployment import CHAIN_DIR, READ_MODEL_FILE, open_market
from sandbox.readmodel import MarketReadModel, ReadModel
from sandbox.scenario import DEMO_SCENARIO, Scenario

SYMBOL = "THAMES28"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_to_ready(data_dir: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds from launching `sandbox serve` to /health 200; stopped with SIGTERM."""
    port = _free_port()
    exe = Path(sys.executable).with_name("sandbox")
    command = [str(exe), "serve", "--port", str(port)]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sandbox serve exited with {proc.returncode} before it was ready")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    wall = time.perf_counter() - start
                    break
            except httpx.TransportError:
                time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return wall, _children_cpu() - cpu  # CPU includes the short shutdown


def _journalled(data_dir: Path) -> int:
    """Blocks journalled since the newest snapshot: what an opening of a copy of `data_dir` replays."""
    journals = sorted((data_dir / CHAIN_DIR).glob("journal-*.log"))
    return len(scan_journal(journals[-1].read_bytes()).records) if journals else 0


def _median(samples: list[tuple[float, float]]) -> str:
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    return f"{wall:.2f} s wall, {cpu:.2f} s CPU"


def in_process_open(data_dir: Path, scenario: Scenario) -> str:
    """Opening the data directory and catching the read model up, in this process (no imports)."""
    w0, c0 = time.perf_counter(), time.process_time()
    opened = open_market(data_dir, scenario)
    w1, c1 = time.perf_counter(), time.process_time()
    model = ReadModel.sqlite(data_dir / READ_MODEL_FILE)
    live = MarketReadModel(opened.market, model)
    live.catch_up()
    w2, c2 = time.perf_counter(), time.process_time()
    recovery = opened.chain.recovery
    replayed = len(recovery.records) if recovery is not None else 0
    model.close()
    opened.chain.close()
    return (
        f"open (replayed {replayed} journalled blocks): {w1 - w0:.2f} s wall, {c1 - c0:.2f} s CPU; "
        f"read-model catch-up: {(w2 - w1) * 1e3:.0f} ms wall, {(c2 - c1) * 1e3:.0f} ms CPU"
    )


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", default="1500,10500", help="transactions (after loading) at which to measure")
    parser.add_argument("--runs", type=int, default=3, help="launches per point")
    parser.add_argument(
        "--crash-journal", type=int, default=249, help="blocks journalled since the last snapshot in the crash image"
    )
    args = parser.parse_args(list(argv))
    points = sorted(int(p) for p in args.points.split(","))
    print(f"command: python -m bench.serve_restart {' '.join(argv)}".rstrip())
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; engine: {default_engine()}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; load average {load_average()} at start"
    )
    scenario = Scenario.from_file(DEMO_SCENARIO)
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-restart-"))
    data_dir = tmp / "data"
    try:
        baseline = [time_to_ready(None) for _ in range(args.runs)]
        print(f"in-memory `sandbox serve` (imports + loading the demo) to /health 200: {_median(baseline)}")
        fresh = [time_to_ready(tmp / f"fresh-{i}") for i in range(args.runs)]
        print(f"`sandbox serve --data-dir` on a fresh directory (load, checkpoint, deployment): {_median(fresh)}")

        opened = open_market(data_dir, scenario)
        market = opened.market
        token = market.security(SYMBOL)
        alice, bob = market.accounts["alice"], market.accounts["bob"]
        model = ReadModel.sqlite(data_dir / READ_MODEL_FILE)
        live = MarketReadModel(market, model)
        sent = 0

        def send_one() -> None:
            nonlocal sent
            if sent % 2 == 0:
                token.transfer(bob, 1, sender=alice)
            else:
                token.transfer(alice, 1, sender=bob)
            sent += 1
            if sent % 500 == 0:
                live.catch_up()  # as the follower thread keeps up

        for point in points:
            w0 = time.perf_counter()
            count = point - sent
            while sent < point:
                send_one()
            live.catch_up()
            rate = count / (time.perf_counter() - w0)
            head = market.chain.block_number()
            print(f"-- after {sent} transactions (+{count} at {rate:.0f}/s incl. indexing), block {head}")
            # The worst crash: the longest journal a crash can leave (one block short of a snapshot).
            for _ in range(args.crash_journal):  # a journal without snapshots (revm) only grows
                if _journalled(data_dir) >= args.crash_journal:
                    break
                send_one()
            live.catch_up()
            # What SIGKILL would leave: every block is fsynced to the journal before its call returns,
            # so a copy of the open directory is a crash image (the journal since the last snapshot).
            # One copy per opening: an opening that ends gracefully snapshots, leaving nothing to replay.
            crashes = [tmp / f"crash-{sent}-{i}" for i in range(args.runs + 1)]
            for crash in crashes:
                shutil.copytree(data_dir, crash, ignore=shutil.ignore_patterns("LOCK"))
            journalled, head = _journalled(data_dir), market.chain.block_number()
            model.close()
            opened.chain.close()  # graceful: snapshots, so the restart replays nothing
            print(
                f"   crash image: {sent} transactions, block {head}, {journalled} blocks "
                "journalled since the last snapshot"
            )
            print(f"   after a crash, in process: {in_process_open(crashes[0], scenario)}")
            runs = [time_to_ready(crash) for crash in crashes[1:]]
            print(f"   after a crash, `sandbox serve --data-dir` to /health 200: {_median(runs)}")
            for crash in crashes:
                shutil.rmtree(crash, ignore_errors=True)
            print(f"   after a graceful stop, in process: {in_process_open(data_dir, scenario)}")
            runs = [time_to_ready(data_dir) for _ in range(args.runs)]
            print(f"   after a graceful stop, `sandbox serve --data-dir` to /health 200: {_median(runs)}")
            opened = open_market(data_dir, scenario)
            market = opened.market
            token = market.security(SYMBOL)
            model = ReadModel.sqlite(data_dir / READ_MODEL_FILE)
            live = MarketReadModel(market, model)
        model.close()
        (data_dir / READ_MODEL_FILE).unlink()
        w0, c0 = time.perf_counter(), time.process_time()
        model = ReadModel.sqlite(data_dir / READ_MODEL_FILE)
        MarketReadModel(market, model).catch_up()
        print(
            f"read model rebuilt from scratch on {market.chain.block_number()} blocks: "
            f"{time.perf_counter() - w0:.2f} s wall, {time.process_time() - c0:.2f} s CPU"
        )
        model.close()
        opened.chain.close()
        print(f"load average {load_average()} at the end")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
