"""Browser tests: the console driven in Debian's headless Chromium by Playwright for Python (`make browser`
installs chromium with apt-get; Playwright's own browser download is not used). The gateway runs under
uvicorn in a thread on 127.0.0.1 with a free port, over a market and read model of its own."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from sandbox.market import Market, load_embedded
from sandbox.readmodel import ReadModel
from sandbox.scenario import DEMO_SCENARIO, Scenario
from sandbox_gateway.app import create_app
from sandbox_gateway.rpc_server import bind_listening_socket
from sandbox_gateway.settings import Settings

VENDOR = Path(__file__).parent / "vendor"
AXE = VENDOR / "axe-4.14.1.min.js"
#: Where the screenshots go when SANDBOX_SCREENS names a directory (`make screens`: docs/screens).
SCREENS = os.environ.get("SANDBOX_SCREENS")
TIMEOUT_MS = 60_000
LAUNCH_TIMEOUT_MS = 180_000


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Debian's chromium is missing: `make browser` installs it (apt-get install chromium)")
    return found


class Gateway:
    def __init__(self, market: Market, url: str, scenario: Scenario) -> None:
        self.market = market
        self.url = url
        self.keys = {"operator": scenario.operator.api_key}
        for regulator in scenario.regulators:
            self.keys[regulator.key] = regulator.api_key
        for issuer in scenario.issuers:
            self.keys[issuer.key] = issuer.api_key
        for investor in scenario.investors:
            if investor.api_key:
                self.keys[investor.key] = investor.api_key

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[who]}"}, timeout=60)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """`sandbox serve`'s app (embedded chain, demo scenario, SQLite read model) on a free port, in a thread."""
    scenario = Scenario.from_file(DEMO_SCENARIO)
    market = load_embedded(scenario, clock="fixed", accounts=20)
    model = ReadModel.sqlite(tmp_path_factory.mktemp("console") / "readmodel.sqlite")
    app = create_app(Settings(), market=market, read_model=model)
    # The socket is bound here and handed to uvicorn: a port probed free and bound later can be taken in between
    # by any other process on a busy machine (a client's ephemeral port, another worker's server).
    sock = bind_listening_socket("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="console-gateway", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    started = threading.Event()
    for _ in range(600):
        if server.started:
            started.set()
            break
        if not thread.is_alive():
            break
        threading.Event().wait(0.1)
    if not started.is_set():
        server.should_exit = True
        sock.close()
        pytest.fail("the gateway did not start within 60 s")
    try:
        yield Gateway(market, url, scenario)
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()
        model.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives a browser 30 s to start by default: short for Chromium on a busy 2-core machine.
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"], timeout=LAUNCH_TIMEOUT_MS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="Europe/London")
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def sign_in(page: Any, gateway: Gateway, who: str) -> None:
    page.goto(f"{gateway.url}/console/login")
    page.get_by_label("API key").fill(gateway.keys[who])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("[data-testid=whoami]")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations on the page as it is."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return found


def screenshot(page: Any, name: str) -> None:
    """A 1280x800 screenshot of the page for docs/screens (only when SANDBOX_SCREENS is set)."""
    if SCREENS:
        Path(SCREENS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENS) / f"{name}.png"))
