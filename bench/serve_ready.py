"""Wall time from launching `sandbox serve` (the demo, in memory) to its first successful /health answer:
``python -m bench.serve_ready [--runs N] [--engine embedded|revm|both]``.

/health answers 200 only once the scenario is loaded and the gateway serves, so this is the time to
ready. Each launch is stopped with SIGTERM. Prints, per engine, the median, min and max wall time and
the child's CPU seconds (user + system; less sensitive to other load than wall time), in a block ready
to paste into bench/RESULTS.md with the machine and its load average.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench._machine import cpu_model, load_average

RUNS = 5
ENGINES = ("embedded", "revm")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_to_ready(engine: str | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one `sandbox serve` from launch to its first /health 200 (CPU includes
    the short shutdown after it)."""
    port = _free_port()
    exe = Path(sys.executable).with_name("sandbox")
    command = [str(exe), "serve", "--port", str(port)]
    if engine is not None:
        command += ["--engine", engine]
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
                time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return wall, _children_cpu() - cpu


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="launches per engine")
    parser.add_argument("--engine", choices=(*ENGINES, "both"), default="both")
    args = parser.parse_args(list(argv))
    engines = ENGINES if args.engine == "both" else (args.engine,)
    print(f"command: python -m bench.serve_ready --runs {args.runs} --engine {args.engine}")
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {os.cpu_count()} cores ({cpu_model()}), {platform.python_implementation()} "
        f"{platform.python_version()}; load average {load_average()} at start"
    )
    print(f"sandbox serve (demo, in memory) -> first /health 200, {args.runs} runs per engine:")
    for engine in engines:
        samples = [time_to_ready(engine) for _ in range(args.runs)]
        walls = [s[0] for s in samples]
        cpus = [s[1] for s in samples]
        print(
            f"  {engine:<8} median {statistics.median(walls):.2f} s wall (min {min(walls):.2f}, max "
            f"{max(walls):.2f}); {statistics.median(cpus):.2f} s CPU"
        )
    print(f"load average {load_average()} at the end")


if __name__ == "__main__":
    main(sys.argv[1:])
