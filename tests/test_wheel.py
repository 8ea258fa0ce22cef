"""The package as a user installs it (issue 14): the wheel, built from this checkout, installed with NO
extras into a fresh virtual environment, runs `sandbox --help` and `sandbox serve` to a 200 on /health.
A runtime import that only the `dev` extra provides, or a data file (artifacts, seeds) left out of the
wheel, fails here. Versions are pinned to uv.lock (constraints only: nothing is added), so the install
comes from uv's cache and is the same on every run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def _uv() -> Path:
    """The uv that `make` installs in .tools (the test command always creates it)."""
    uv = REPO / ".tools" / "bin" / "uv"
    if not uv.is_file():
        pytest.fail(f"{uv} is missing: run `make install` (it installs uv from PyPI)")
    return uv


def _run(cmd: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env, cwd=cwd)
    printed = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{printed}"
    return done


def _env() -> dict[str, str]:
    """The environment without the sandbox's settings, the test venv or the source tree on the path."""
    drop = ("SANDBOX_", "VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(drop)},
        "UV_PYTHON_DOWNLOADS": "never",
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `sandbox` script of a fresh venv holding the wheel and its runtime dependencies only."""
    uv, env = _uv(), _env()
    work = tmp_path_factory.mktemp("wheel")
    _run([str(uv), "build", "--wheel", "--out-dir", str(work / "dist"), str(REPO)], env=env, cwd=REPO)
    wheels = list((work / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    # Two import packages, neither under a generic top-level name, and the shipped scenarios inside.
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {
        "sandbox",
        "sandbox_gateway",
    }
    assert {"sandbox/seeds/demo.yaml", "sandbox/seeds/uk-us-sandbox.yaml"} <= set(names)
    constraints = work / "constraints.txt"
    _run(
        [str(uv), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "-o", str(constraints)],
        env=env,
        cwd=REPO,
    )
    venv = work / "venv"
    _run([str(uv), "venv", "--python", sys.executable, str(venv)], env=env, cwd=work)
    python = venv / "bin" / "python"
    install = [str(uv), "pip", "install", "--python", str(python), "-c", str(constraints), str(wheels[0])]
    _run(install, env=env, cwd=work)
    # Nothing of the dev extra came along (so an import of it at runtime would fail below).
    listed = _run([str(uv), "pip", "list", "--python", str(python)], env=env, cwd=work).stdout
    for dev_only in ("pytest", "hypothesis", "schemathesis"):
        assert re.search(rf"^{dev_only}\s", listed, re.MULTILINE) is None, listed
    return venv / "bin" / "sandbox"


def test_the_installed_wheel_prints_its_help(installed: Path, tmp_path: Path) -> None:
    # Run outside the checkout, so nothing is imported from the source tree.
    done = _run([str(installed), "--help"], env=_env(), cwd=tmp_path)
    assert "serve" in done.stdout


@pytest.fixture
def serving(installed: Path, tmp_path: Path) -> Iterator[int]:
    """`sandbox serve --port 0` from the installed wheel; yields the port it announces; stopped by PID."""
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(installed), "serve", "--port", "0"], stdout=out, stderr=subprocess.STDOUT, env=_env(), cwd=tmp_path
        )
    try:
        # A hang guard, not a timing assertion: the demo loads in seconds to tens of seconds.
        deadline = time.monotonic() + 300
        found = None
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"Sandbox ready on http://127\.0\.0\.1:(\d+)", log.read_text())
            time.sleep(0.2)
        assert found is not None, log.read_text()
        yield int(found.group(1))
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_installed_wheel_serves_the_demo_to_health(serving: int) -> None:
    response = httpx.get(f"http://127.0.0.1:{serving}/health", timeout=60)
    assert response.status_code == 200, response.text
