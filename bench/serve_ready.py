"""Wall time from launching `sandbox serve` to its first successful /health answer."""

from __future__ import annotations

import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

RUNS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_to_ready() -> float:
    port = _free_port()
    exe = Path(sys.executable).with_name("sandbox")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("sandbox serve exited before it was ready")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return time.perf_counter() - start
            except httpx.TransportError:
                time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def main() -> None:
    times = [time_to_ready() for _ in range(RUNS)]
    print(f"sandbox serve → /health 200, demo scenario, {RUNS} runs:")
    print(f"  median {statistics.median(times):.2f} s   min {min(times):.2f} s   max {max(times):.2f} s")


if __name__ == "__main__":
    main()
