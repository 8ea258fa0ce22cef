"""docker-compose.yml and the Dockerfile cannot be run here (no Docker engine); check what can be checked:
they parse, publish only on loopback, configure the gateway only through settings it has, and copy
paths that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sandbox_gateway.settings import Settings

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


def _dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined: (INSTRUCTION, arguments)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in _compose()["services"].items():
        if service.get("restart") == "no":  # a one-shot job: it exits when done
            continue
        check = service.get("healthcheck")
        assert check is not None, f"{name} has no healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_dependencies_wait_for_healthy_services_that_exist() -> None:
    services = _compose()["services"]
    waits = set()
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on must give a condition for each service"
        for other, how in depends_on.items():
            assert other in services, f"{name} depends on an undefined service {other}"
            assert how["condition"] == "service_healthy", (name, other)
            assert "healthcheck" in services[other], f"{name} waits for {other}, which has no healthcheck"
            # A dependency in a profile the dependent is not in must be optional, or `up` without
            # that profile fails.
            if not set(services[other].get("profiles", [])) <= set(service.get("profiles", [])):
                assert how.get("required") is False, (name, other)
            waits.add((name, other))
    assert ("api", "postgres") in waits
    assert ("seed-anvil", "anvil") in waits


def test_the_postgres_url_is_documented_and_names_the_postgres_service() -> None:
    from sqlalchemy.engine import make_url

    compose_text = (ROOT / "docker-compose.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    postgres = _compose()["services"]["postgres"]["environment"]
    urls = set(re.findall(r"SANDBOX_DATABASE_URL=(postgresql\+psycopg://\S+)", compose_text))
    assert urls, "docker-compose.yml gives no example SANDBOX_DATABASE_URL"
    assert urls & set(re.findall(r"SANDBOX_DATABASE_URL=(postgresql\+psycopg://[^\s`]+)", readme)), (
        "the README gives a different (or no) SANDBOX_DATABASE_URL for the postgres profile"
    )
    for text in urls:
        url = make_url(text)
        assert (url.host, url.port, url.database) == ("postgres", 5432, postgres["POSTGRES_DB"])
        assert url.username == postgres["POSTGRES_USER"]
    assert "SANDBOX_DATABASE_URL" in _compose()["services"]["api"]["environment"]


def test_anvil_has_the_accounts_the_demo_needs() -> None:
    from sandbox.scenario import DEMO_SCENARIO, Scenario

    entrypoint = _compose()["services"]["anvil"]["entrypoint"]
    accounts = int(entrypoint[entrypoint.index("--accounts") + 1])
    assert accounts >= Scenario.from_file(DEMO_SCENARIO).accounts_needed


def test_the_image_runs_as_a_non_root_user() -> None:
    instructions = _dockerfile()
    users = [(i, args) for i, (what, args) in enumerate(instructions) if what == "USER"]
    assert users, "no USER: the image runs as root"
    last, user = users[-1]
    assert user.split(":")[0] not in {"root", "0"}
    [cmd] = [i for i, (what, _) in enumerate(instructions) if what == "CMD"]
    assert last < cmd


def test_the_dependency_layer_is_built_from_the_lock_before_the_sources() -> None:
    instructions = _dockerfile()
    syncs = [i for i, (what, args) in enumerate(instructions) if what == "RUN" and "uv sync" in args]
    assert syncs, "no uv sync"
    first = syncs[0]
    assert {"--frozen", "--no-dev", "--no-install-project"} <= set(instructions[first][1].split())
    copied_before = [args.split()[:-1] for what, args in instructions[:first] if what == "COPY"]
    assert sorted(source for sources in copied_before for source in sources) == ["pyproject.toml", "uv.lock"]
    copied_after = [source for what, args in instructions[first:] if what == "COPY" for source in args.split()[:-1]]
    assert {"sandbox", "api", "seeds"} <= set(copied_after)
