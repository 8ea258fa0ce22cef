"""`sandbox serve` for real: a subprocess on a free loopback port, stopped by its PID."""

from __future__ import annotations

import dataclasses
import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.deployment import seal_scenario
from sandbox.market import Market, load_embedded
from sandbox.scenario import DEMO_SCENARIO, OperatorSpec, Scenario
from sandbox_gateway import cli
from tests.announced import announced_port

SANDBOX = Path(sys.executable).with_name("sandbox")


@pytest.mark.slow
def test_serve_loads_the_demo_prints_keys_and_answers(demo_scenario: Scenario, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(SANDBOX), "serve", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        # generous: on a 2-core machine at load 20, serve took 70 s to answer (the test's 60 s failed twice)
        port = announced_port(log, proc, timeout=300)
        deadline = time.monotonic() + 300
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, log.read_text()
        assert health.status_code == 200
        assert health.json()["securities"] == len(demo_scenario.securities)
        key = demo_scenario.regulators[0].api_key
        positions = httpx.get(
            f"http://127.0.0.1:{port}/securities/THAMES28/positions",
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert positions.status_code == 200
        printed = log.read_text()
        assert f"http://127.0.0.1:{port}/docs" in printed
        assert key in printed  # the demo keys are printed whole
        _client_commands_work(f"http://127.0.0.1:{port}", demo_scenario)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_loads_with_the_cyclic_gc_off_then_serves_with_it_on_and_the_start_up_frozen() -> None:
    """`serve` loads (imports, chain, seeding, read model, app) with the cyclic collector off and, once
    loaded, freezes what it built and serves with the collector on again."""
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    try:
        with cli._loading_without_cyclic_gc() as loaded:
            assert not gc.isenabled()
            built = [[i] for i in range(1_000)]  # what a start-up keeps for the process's life
            assert all(gc.is_tracked(b) for b in built)
            loaded()
            assert gc.isenabled()  # serving: the collector runs as usual ...
            assert gc.get_freeze_count() >= frozen_before + len(built)  # ... but never rescans the start-up:
            scanned = {id(o) for o in gc.get_objects()}  # what the collector's generations hold
            assert not any(id(b) in scanned for b in built)
        assert gc.isenabled()
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("failure", [KeyboardInterrupt, SystemExit, ValueError])
def test_a_start_up_that_stops_early_leaves_the_cyclic_gc_on_and_nothing_frozen(failure: type[BaseException]) -> None:
    """A start-up that fails or is interrupted before it serves (a bad scenario, a taken port, Ctrl-C)
    leaves the collector as it found it, and freezes nothing."""
    frozen_before = gc.get_freeze_count()
    with pytest.raises(failure), cli._loading_without_cyclic_gc():
        assert not gc.isenabled()
        raise failure()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen_before


def test_check_scenario_rejects_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noperator: {api_key: short}\nregulators: []\nissuers: []\ninvestors: []\nsecurities: []\n")
    result = subprocess.run([str(SANDBOX), "check-scenario", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "not a valid scenario" in result.stdout


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SANDBOX), *args], capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"}
    )


def _client_commands_work(url: str, scenario: Scenario) -> None:
    """The CLI's client commands against the served sandbox, as a participant's shell would use them."""
    fca = scenario.regulators[0].api_key
    operator = scenario.operator.api_key
    status = _cli("status", "--url", url)
    assert status.returncode == 0 and "up" in status.stdout, status.stdout + status.stderr
    csv = _cli("cap-table", "THAMES28", "--csv", "--url", url, "--key", fca)
    assert csv.returncode == 0, csv.stdout
    assert csv.stdout.splitlines()[0].startswith("security,block,wallet")
    assert len(csv.stdout.splitlines()) == 1 + len(scenario.securities[0].initial_holdings)
    before = httpx.get(f"{url}/health", timeout=60).json()["block_timestamp"]
    travelled = _cli("time-travel", "86400", "--url", url, "--key", operator)
    assert travelled.returncode == 0, travelled.stdout
    assert httpx.get(f"{url}/health", timeout=60).json()["block_timestamp"] >= before + 86_400
    audit = _cli("audit", "--url", url, "--key", operator)
    assert audit.returncode == 0 and "/operator/time-travel" in audit.stdout, audit.stdout
    refused = _cli("time-travel", "60", "--url", url, "--key", fca)
    assert refused.returncode == 1 and "ROLE_NOT_ALLOWED" in refused.stdout
    unreachable = _cli("status", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 2 and "Cannot reach" in unreachable.stdout


def _welcome(market: Market, spec: Scenario, *, host: str, reproducible: bool) -> str:
    with cli.console.capture() as captured:
        cli._print_welcome(
            market,
            spec,
            DEMO_SCENARIO,
            host=host,
            port=8000,
            data_dir=None,
            keys_file=None,
            reproducible=reproducible,
        )
    return " ".join(captured.get().split())  # whatever the terminal's width


def test_serve_says_who_holds_the_chain_keys_and_warns_before_exposing_published_secrets(
    demo_scenario: Scenario,
) -> None:
    market = load_embedded(demo_scenario)
    fca = market.accounts["fca"]
    local = _welcome(market, demo_scenario, host="127.0.0.1", reproducible=False)
    assert "chain keys: random, held by this sandbox only (in memory)" in local
    assert f"demo-fca-regulator-key-0001 {fca} Financial Conduct Authority" in local  # key and address
    assert "WARNING" not in local
    exposed = _welcome(market, demo_scenario, host="0.0.0.0", reproducible=False)
    assert "WARNING: 0.0.0.0 is not a loopback address" in exposed
    assert f"the API keys are those written in {DEMO_SCENARIO}" in exposed
    both = _welcome(market, demo_scenario, host="sandbox.example.org", reproducible=True)
    assert "the chain's accounts derive from the well-known test mnemonic" in both
    assert "anyone who reaches this sandbox can sign as any participant" in both
    # Restored from a data directory, the scenario holds digests: the file's keys are shown if they match.
    restored = dataclasses.replace(market, scenario=seal_scenario(demo_scenario))
    text = _welcome(restored, demo_scenario, host="127.0.0.1", reproducible=False)
    assert "demo-fca-regulator-key-0001" in text and "sha256:" not in text
    other = demo_scenario.model_copy(update={"operator": OperatorSpec(api_key="another-operator-key-000")})
    assert "operator - (kept as a digest only)" in _welcome(restored, other, host="127.0.0.1", reproducible=False)
