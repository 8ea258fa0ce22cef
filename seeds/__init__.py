"""The scenarios the sandbox ships: the demo it starts with by default, and the UK-US sandbox (44
investors, five securities, seven weeks of history)."""

from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent
DEMO_SCENARIO = SEEDS_DIR / "demo.yaml"
UK_US_SCENARIO = SEEDS_DIR / "uk-us-sandbox.yaml"

__all__ = ["DEMO_SCENARIO", "SEEDS_DIR", "UK_US_SCENARIO"]
