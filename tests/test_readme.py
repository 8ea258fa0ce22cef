"""Every code block of README.md runs (issue 14): a README example that does not run is a failed test.

Python blocks run as written in a fresh interpreter (the venv's), in an empty temporary directory (a
block that needs files makes them); a block that defines `test_` functions runs under pytest there.
Shell blocks run with bash from the repository's root. Blocks that talk to `localhost:8000` run against
a real `sandbox serve` of the demo (what `make run` starts), on a free port substituted for 8000. A block
marked `<!-- readme-test: serve -->` starts a server: it runs with its port replaced by a free one and
`var/` by a temporary directory, must answer HTTP, and is then stopped. A block that cannot run here by
nature is marked `<!-- readme-test: skip (reason) -->` on the line before it, and must give the reason."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.announced import RPC_READY, SERVE_READY, announced_port

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = Path(sys.executable).with_name("sandbox")
BLOCK = re.compile(
    r"^(?:<!-- readme-test: (?P<directive>.*?) -->\n)?```(?P<lang>[^\n`]*)\n(?P<code>.*?)^```[ \t]*$",
    flags=re.MULTILINE | re.DOTALL,
)
SKIP = re.compile(r"^skip \((?P<reason>.+)\)$")
#: What a block must print besides exiting 0 (keyed by a line of the block).
EXPECTED_OUTPUT = {
    "except ContractReverted as refused:": "SENDER_FROZEN",
    '"method":"eth_blockNumber"': '"result":"0x',
}


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    code: str
    directive: str | None

    @property
    def id(self) -> str:
        return f"README.md:{self.line}-{self.lang}"


def _blocks() -> list[Block]:
    text = (ROOT / "README.md").read_text()
    return [
        Block(text.count("\n", 0, m.start("code")) + 1, m.group("lang"), m.group("code"), m.group("directive"))
        for m in BLOCK.finditer(text)
    ]


BLOCKS = _blocks()
RUN = [b for b in BLOCKS if b.directive is None]
SERVE = [b for b in BLOCKS if b.directive == "serve"]


def test_every_block_is_run_or_skipped_for_a_stated_reason() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(BLOCKS) == text.count("\n```") // 2 + text.startswith("```"), "a fence the parser missed"
    assert text.count("<!-- readme-test:") == sum(b.directive is not None for b in BLOCKS), (
        "a readme-test comment that is not on the line right before a code block"
    )
    for block in BLOCKS:
        assert block.lang in {"python", "sh"}, f"{block.id}: no way to run a {block.lang!r} block"
        if block.directive is None or block.directive == "serve":
            continue
        skip = SKIP.match(block.directive)
        assert skip is not None, f"{block.id}: unknown directive {block.directive!r}"
        assert len(skip.group("reason").split()) >= 3, f"{block.id}: a skip needs a reason"
    assert sum(b.directive is None for b in BLOCKS) >= 8  # most of the README runs


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    return {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", "COLUMNS": "250"}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _answers_http(proc: subprocess.Popen[bytes], url: str, log: Path) -> httpx.Response:
    """Waits (a generous deadline, not a timing assertion) until `url` answers HTTP."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            return httpx.get(url, timeout=10)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"no answer from {url} within 300 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """What `make run` starts (the demo, in memory, no option), on a free port: its host:port."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(SANDBOX), "serve", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        found = None
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"Sandbox ready on http://(127\.0\.0\.1:\d+)", log.read_text())
            time.sleep(0.2)
        assert found is not None, log.read_text()
        assert _answers_http(proc, f"http://{found.group(1)}/health", log).status_code == 200
        yield found.group(1)
    finally:
        _stop(proc)


def _run(command: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Runs a block in a session of its own; a block that hangs (a server nobody marked) fails, and
    everything it started is stopped with it, grandchildren included."""
    proc = subprocess.Popen(
        command, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"{' '.join(command)[:200]} did not end within {timeout} s:\n{stdout}\n{stderr}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever it left behind
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def _check_output(block: Block, stdout: str) -> None:
    for line, expected in EXPECTED_OUTPUT.items():
        if line in block.code:
            assert expected in stdout, stdout


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in RUN if b.lang == "python"], ids=lambda b: b.id)
def test_python_block_runs(block: Block, tmp_path: Path) -> None:
    if re.search(r"^def test_", block.code, flags=re.MULTILINE):
        (tmp_path / "test_from_readme.py").write_text(block.code)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_from_readme.py"]
    else:
        (tmp_path / "example.py").write_text(block.code)
        command = [sys.executable, "example.py"]
    done = _run(command, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, f"{block.id} failed:\n{block.code}\n{done.stdout}\n{done.stderr}"
    _check_output(block, done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in RUN if b.lang == "sh"], ids=lambda b: b.id)
def test_shell_block_runs(block: Block, request: pytest.FixtureRequest) -> None:
    if shutil.which("curl") is None or shutil.which("python3") is None:
        pytest.fail("the README's shell examples need curl and python3 on the PATH")
    script = block.code
    if "localhost:8000" in script:
        host_port: str = request.getfixturevalue("serve")
        script = script.replace("localhost:8000", host_port)
    done = _run(["bash", "-eo", "pipefail", "-c", script], cwd=ROOT, timeout=300)
    assert done.returncode == 0, f"{block.id} failed:\n{script}\n{done.stdout}\n{done.stderr}"
    _check_output(block, done.stdout)
    if script.startswith("FCA="):  # the walkthrough: the FCA's freeze, then the chain's refusal
        assert "0x" not in block.code  # no address is written down: the random keys change them
        frozen, refused = [json.loads(line) for line in done.stdout.replace("}{", "}\n{").splitlines()[-2:]]
        assert frozen["frozen"] is True and frozen["frozen_by"] == "GB"
        assert refused["status"] == 409 and refused["code"] == "SENDER_FROZEN"


@pytest.mark.slow
@pytest.mark.parametrize("block", SERVE, ids=lambda b: b.id)
def test_server_block_serves(block: Block, tmp_path: Path) -> None:
    [command] = [line.split("#")[0].strip() for line in block.code.splitlines() if line.strip()]
    ports = re.findall(r"--port (\d+)", command)
    # --port 0: the server binds a free port itself and announces it (a probed free port could be taken by another
    # process before the server binds it).
    command = re.sub(r"--port \d+", "--port 0", command) if ports else f"{command} --port 0"
    command = command.replace("var/", f"{tmp_path}/var/")
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
            start_new_session=True,
        )
    try:
        port = announced_port(log, proc, f"(?:{SERVE_READY}|{RPC_READY})", timeout=300)
        answer = _answers_http(proc, f"http://127.0.0.1:{port}/health", log)
        assert answer.status_code < 500, answer.text
    finally:
        _stop(proc)
