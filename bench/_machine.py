"""The line each bench prints first: command, date, machine and load average (bench/RESULTS.md asks for
them beside every figure)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime


def machine_block(command: str) -> str:
    """`command`, the date, the machine (cores, CPU model, Python) and the load average now."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
        with open("/proc/loadavg") as loadavg:
            load = " ".join(loadavg.read().split()[:3])
    except OSError:
        load = "unknown"
    return (
        f"`{command}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores ({model}), "
        f"Python {sys.version.split()[0]}, load average {load} (gas is exact and does not depend on load)"
    )
