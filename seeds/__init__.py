"""The demo scenarios the sandbox starts with."""

from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent
DEMO_SCENARIO = SEEDS_DIR / "demo.yaml"

__all__ = ["DEMO_SCENARIO", "SEEDS_DIR"]
