"""docker-compose.yml and the Dockerfile cannot be run here (no Docker engine); check what can be checked:
they parse, publish only on loopback, configure the gateway only through settings it has, and copy
paths that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from api.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_has_the_gateway_by_default_and_profiles_for_anvil_and_postgres() -> None:
    services = _compose()["services"]
    assert "profiles" not in services["api"]
    assert services["anvil"]["profiles"] == ["anvil"]
    assert services["postgres"]["profiles"] == ["postgres"]
    assert services["api"]["build"] == "."


def test_compose_publishes_on_loopback_only() -> None:
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_gateway_environment_names_real_settings() -> None:
    environment = _compose()["services"]["api"]["environment"]
    fields = {f"SANDBOX_{name.upper()}" for name in Settings.model_fields}
    assert set(environment) <= fields, f"unknown settings: {set(environment) - fields}"


def test_dockerfile_copies_existing_paths_and_serves() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for sources in re.findall(r"^COPY (.+) \S+$", text, flags=re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), source
    assert '"sandbox", "serve"' in text


def test_gateway_keeps_its_data_dir_in_a_named_volume() -> None:
    compose = _compose()
    api = compose["services"]["api"]
    data_dir = api["environment"]["SANDBOX_DATA_DIR"]
    mounts = {target: source for source, _, target in (v.partition(":") for v in api["volumes"])}
    assert mounts[data_dir] in compose["volumes"], "the data directory must be a named volume"
