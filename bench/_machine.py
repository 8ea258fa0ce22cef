"""What a benchmark prints about the machine it ran on, so its figures can be pasted with their context:
the command, the date, the CPU (count and model) and the load average (/proc/loadavg) at the start and
at the end."""

from __future__ import annotations

import os
import platform
import sys
import time


def load_average() -> str:
    """The three load averages as /proc/loadavg gives them ('1.20 0.95 0.80'), or os.getloadavg's."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(module: str, argv: list[str]) -> str:
    """The first lines of a paste-ready block: command, date (UTC), machine, load average."""
    command = " ".join([".venv/bin/python -m", module, *argv])
    return (
        f"command: {command}\n"
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n"
        f"machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}, {platform.machine()}, "
        f"Python {sys.version.split()[0]}\n"
        f"load average at start (/proc/loadavg): {load_average()}"
    )


def machine_block(command: str) -> str:
    """One line for a gas bench: `command`, the date, the machine (cores, CPU model, Python) and the load
    average now (gas is exact, so the load is context, not a caveat)."""
    return (
        f"`{command}`, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores "
        f"({cpu_model()}), Python {sys.version.split()[0]}, load average {load_average()} "
        "(gas is exact and does not depend on load)"
    )
