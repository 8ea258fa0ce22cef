"""The `sandbox` command line.

Each command imports what it uses when it runs: `sandbox --help` (and a mistyped option) loads typer and
rich only, and `sandbox serve` loads no client-only module (tests/test_cli_imports.py).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from sandbox_gateway import client as cli_client

if TYPE_CHECKING:
    from sandbox.market import Market
    from sandbox.scenario import Scenario
    from sandbox_gateway.log_index import LogIndex

app = typer.Typer(help="The UK-US digital-securities sandbox.", no_args_is_help=True, add_completion=False)
console = Console(soft_wrap=True)


@app.callback()
def main() -> None:
    """The UK-US digital-securities sandbox."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1; SANDBOX_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port of the gateway (default 8000; SANDBOX_PORT).")] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario to load (default: the demo; SANDBOX_SCENARIO).", dir_okay=False)
    ] = None,
    clock: Annotated[str | None, typer.Option(help="'wall' or 'fixed' block times (SANDBOX_CLOCK).")] = None,
    engine: Annotated[
        str | None, typer.Option(help="'revm' (default) or 'embedded' (py-evm) in-process EVM (SANDBOX_ENGINE).")
    ] = None,
    accounts: Annotated[int | None, typer.Option(help="Funded accounts on the embedded chain.")] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Keep the chain, its keys, the deployment and the read model in this directory and carry on "
            "from it on restart (SANDBOX_DATA_DIR). Without it the sandbox lives in memory.",
            file_okay=False,
        ),
    ] = None,
    reproducible: Annotated[
        bool | None,
        typer.Option(
            "--reproducible",
            help="UNSAFE beyond your own machine: derive the chain's accounts from the well-known test "
            "mnemonic (test ... junk) instead of fresh random keys, so addresses are the same on every run "
            "but anyone who reaches the sandbox can sign as any participant (SANDBOX_REPRODUCIBLE).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start an embedded chain, deploy and seed the scenario, and serve the gateway.

    The chain's accounts get fresh random keys that only this sandbox holds (kept in the data directory,
    mode 0600, with --data-dir), unless --reproducible asks for the well-known test mnemonic. The gateway
    and the chain's JSON-RPC endpoint (/rpc) both need a bearer API key; /rpc takes transactions signed
    by the caller only. With --data-dir the scenario is loaded only into a fresh directory; later starts
    restore the chain (every acknowledged transaction), its keys and the market from it. Options default
    to the SANDBOX_* environment variables (see api/sandbox_gateway/settings.py), then to the built-in defaults."""
    with _loading_without_cyclic_gc() as loaded:
        _serve(
            host=host,
            port=port,
            scenario=scenario,
            clock=clock,
            engine=engine,
            accounts=accounts,
            data_dir=data_dir,
            reproducible=reproducible,
            loaded=loaded,
        )


@contextmanager
def _loading_without_cyclic_gc() -> Iterator[Callable[[], None]]:
    """Runs the start-up (imports, chain, seeding, read model, app) with the cyclic garbage collector
    off, and gives the function to call once everything is loaded: it freezes what the start-up built
    (`gc.freeze`: long-lived modules, classes, the market and the app, which later collections then
    never scan again) and turns the collector back on for serving.

    The start-up allocates about 190,000 objects that live as long as the process and leaves only a
    few thousand as cyclic garbage (left frozen: well under a megabyte); with the collector on, its
    generation-2 passes rescanned the growing heap again and again, about 0.2-0.3 s of CPU of a 1.5 s
    start (`python -m bench.serve_ready`). However the start-up ends (an error, Ctrl-C), the collector
    is on again afterwards if it was before."""
    was_enabled = gc.isenabled()
    gc.disable()

    def loaded() -> None:
        gc.freeze()
        if was_enabled:
            gc.enable()

    try:
        yield loaded
    finally:
        if was_enabled:
            gc.enable()


def _serve(
    *,
    host: str | None,
    port: int | None,
    scenario: Path | None,
    clock: str | None,
    engine: str | None,
    accounts: int | None,
    data_dir: Path | None,
    reproducible: bool | None,
    loaded: Callable[[], None],
) -> None:
    # The CLI is the top layer: it may start the gateway; the library itself never imports it.
    import tempfile
    import time

    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sandbox.chain.keys import DEFAULT_MNEMONIC, random_mnemonic
    from sandbox.chain.web3chain import Web3Chain
    from sandbox.deployment import READ_MODEL_FILE, DeploymentError, OpenedMarket, open_market
    from sandbox.errors import SandboxError
    from sandbox.market import load_embedded
    from sandbox.readmodel import ReadModel, ReadModelError
    from sandbox.scenario import Scenario
    from sandbox_gateway.app import create_app
    from sandbox_gateway.principals import PrincipalDirectory
    from sandbox_gateway.rpc_server import CannotListenError, bind_listening_socket, mount_rpc, serve_on_socket
    from sandbox_gateway.settings import Settings

    overrides = {
        "host": host,
        "port": port,
        "scenario": scenario,
        "clock": clock,
        "engine": engine,
        "accounts": accounts,
        "data_dir": data_dir,
        "reproducible": reproducible,
    }
    try:
        settings = Settings.model_validate({k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        console.print(f"[red]Invalid settings:[/red]\n{exc}")
        raise typer.Exit(2) from None
    try:
        spec = Scenario.from_file(settings.scenario)
    except (ValueError, OSError) as exc:
        console.print(f"[red]The scenario {settings.scenario} is not valid:[/red]\n{exc}")
        raise typer.Exit(2) from None
    # The port before the loading: a taken port fails now, not after 20 s of loading and a "ready".
    try:
        sock = bind_listening_socket(settings.host, settings.port)
    except CannotListenError as exc:
        console.print(f"[red]Cannot serve: {exc.strerror}.[/red] Choose another with --port or SANDBOX_PORT.")
        raise typer.Exit(1) from None
    port = sock.getsockname()[1]  # the real one when --port 0 asked for any free port
    opened: OpenedMarket | None = None
    market: Market
    chain: Web3Chain
    attached = False
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(f"Loading scenario {spec.name}", total=None)

        def report(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        started = time.perf_counter()
        try:
            if settings.chain_url:
                progress.update(task, description=f"Connecting to {settings.chain_url}")
                market, attached = _open_on_node(settings.chain_url, spec, settings.accounts, settings.data_dir, report)
                assert isinstance(market.chain, Web3Chain)
                chain = market.chain
            elif settings.data_dir is not None:
                progress.update(task, description=f"Opening {settings.data_dir}")
                opened = open_market(
                    settings.data_dir,
                    spec,
                    accounts=settings.accounts,
                    clock=settings.clock,
                    progress=report,
                    mnemonic=DEFAULT_MNEMONIC if settings.reproducible else None,
                    engine=settings.engine,
                )
                market, chain = opened.market, opened.chain
            else:
                mnemonic = DEFAULT_MNEMONIC if settings.reproducible else random_mnemonic()
                market = load_embedded(
                    spec,
                    clock=settings.clock,
                    accounts=settings.accounts,
                    progress=report,
                    mnemonic=mnemonic,
                    engine=settings.engine,
                )
                assert isinstance(market.chain, Web3Chain)
                chain = market.chain
        except DeploymentError as exc:
            console.print(f"[red]Cannot serve {settings.data_dir}:[/red] {exc}")
            raise typer.Exit(1) from None
        except SandboxError as exc:
            console.print(f"[red]Could not load the scenario:[/red] {exc}")
            raise typer.Exit(1) from None
        except (OSError, ValueError) as exc:  # the node cannot be reached, or answers nonsense
            console.print(f"[red]Cannot use the chain at {settings.chain_url}:[/red] {exc}")
            raise typer.Exit(1) from None
        if attached:
            progress.update(
                task,
                completed=1,
                total=1,
                description=f"Attached to scenario {market.scenario.name} on {settings.chain_url} "
                f"(the deployment in {settings.data_dir})",
            )
        elif opened is not None and not opened.seeded:
            progress.update(
                task,
                completed=1,
                total=1,
                description=f"Restored scenario {market.scenario.name} at block {market.chain.block_number()} "
                f"from {opened.data_dir} in {time.perf_counter() - started:.1f} s",
            )
        else:
            progress.update(task, description=f"Scenario {spec.name} loaded")
    if opened is not None and opened.discarded_interrupted_seeding:
        console.print("[yellow]An interrupted loading of the scenario was discarded and loaded again.[/yellow]")
    scratch = tempfile.TemporaryDirectory(prefix="sandbox-readmodel-") if settings.data_dir is None else None
    if settings.database_url:
        url = settings.database_url
    elif opened is not None:
        url = f"sqlite:///{opened.read_model_path}"
    elif settings.data_dir is not None:
        url = f"sqlite:///{settings.data_dir / READ_MODEL_FILE}"
    else:
        assert scratch is not None
        url = f"sqlite:///{Path(scratch.name) / 'readmodel.sqlite'}"
    try:
        with console.status("Indexing the chain into the read model"):
            read_model = ReadModel(url)
            gateway = create_app(settings, market=market, read_model=read_model)
    except (ReadModelError, OSError) as exc:
        console.print(f"[red]Cannot open the read model at {url}:[/red] {exc}")
        raise typer.Exit(1) from None

    # Participants' own tools (ethers, viem, cast) talk to the same chain, with the gateway's API keys.
    def authenticate(key: str) -> object | None:
        directory: PrincipalDirectory = gateway.state.principals  # the gateway's keys, whatever it holds then
        return directory.authenticate(key)

    rpc = mount_rpc(gateway, chain, "/rpc", authenticate=authenticate)
    # The log index reads the chain's history once (about 9 ms a block on the embedded chain): in the
    # background now, rather than in the first eth_getLogs a client sends.
    threading.Thread(target=_warm_up, args=(rpc.handler.log_index,), name="log-index-warm-up", daemon=True).start()
    reproducible_chain = opened.reproducible if opened is not None else settings.reproducible
    _print_welcome(
        market,
        spec,
        settings.scenario,
        host=settings.host,
        port=port,
        data_dir=settings.data_dir,
        keys_file=opened.keys_path if opened is not None else None,
        reproducible=reproducible_chain,
        chain_url=settings.chain_url,
    )
    loaded()
    try:
        serve_on_socket(gateway, sock, log_level="warning")
    finally:
        read_model.close()
        if opened is not None:
            opened.chain.close()
        if scratch is not None:
            scratch.cleanup()


def _warm_up(index: LogIndex) -> None:
    try:
        index.sync()
    except Exception:  # the first query catches up by itself
        logging.getLogger(__name__).exception("the log index could not catch up in the background")


def _open_on_node(
    chain_url: str,
    spec: Scenario,
    accounts: int,
    data_dir: Path | None,
    report: Callable[[int, int, str], None],
) -> tuple[Market, bool]:
    """The market on the JSON-RPC node at `chain_url`, and whether it was attached rather than deployed.

    With a data directory that holds a deployment (``deployment.json``, written by a `serve` that
    deployed, or copied from one), the gateway attaches to it: the same contracts, on a node of the same
    chain id whose registry has code (else `DeploymentError`). Otherwise the scenario is deployed now
    (accounts funded from the first one when they lack ether), and with a data directory the deployment
    is written there, and kept up to date as the market changes, for the next start or another gateway.
    The node signs nothing: the sandbox signs with the development mnemonic's accounts (anvil's)."""
    from sandbox.chain.factory import connect
    from sandbox.deployment import DeploymentWriter, decode_market, read_deployment
    from sandbox.market import fund_accounts, load_scenario

    num_accounts = max(accounts, spec.accounts_needed)
    document = read_deployment(data_dir) if data_dir is not None else None
    if document is not None:
        num_accounts = max(num_accounts, int(document.get("num_accounts", 0)))
    chain = connect(chain_url, num_accounts=num_accounts)
    if document is not None:
        market = decode_market(document, chain)  # type: ignore[arg-type]  # any Web3Chain will do
        attached = True
    else:
        fund_accounts(chain, spec.accounts_needed)
        market = load_scenario(chain, spec, report)
        attached = False
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        writer = DeploymentWriter(market, data_dir, num_accounts=num_accounts)
        writer.write()
        market.listeners.append(writer.write)
    return market, attached


def _print_welcome(
    market: Market,
    spec: Scenario,
    scenario_file: Path,
    *,
    host: str,
    port: int,
    data_dir: Path | None,
    keys_file: Path | None,
    reproducible: bool,
    chain_url: str | None = None,
) -> None:
    """What a user needs: where things are, the API keys with each participant's chain address, who
    holds the chain's keys, and a warning when what is served is reachable with published secrets."""
    from sandbox.deployment import is_sealed, seal_api_key
    from sandbox_gateway.rpc_server import is_loopback

    chain_id = market.chain.chain_id
    base = f"http://{host}:{port}"
    where = f"the node at {chain_url}" if chain_url else "embedded chain"
    console.print(f"\n[bold green]Sandbox ready[/bold green] on {base} ({where}, id {chain_id})")
    if data_dir is not None:
        console.print(f"  data directory: {data_dir} (kept across restarts)", soft_wrap=True, highlight=False)
    else:
        console.print("  in memory: everything is forgotten when it stops (--data-dir keeps it)", highlight=False)
    console.print(f"  interactive API docs: {base}/docs    OpenAPI: {base}/openapi.json", soft_wrap=True)
    console.print(
        f"  JSON-RPC endpoint of the chain: {base}/rpc (chain id {chain_id}; a bearer API key as below; "
        "it signs for nobody: send transactions you signed, with eth_sendRawTransaction)",
        soft_wrap=True,
        highlight=False,
    )
    if reproducible:
        console.print(
            "  [bold yellow]chain keys: the well-known test mnemonic (reproducible chain)[/bold yellow]: anyone "
            "who reaches this sandbox can sign as any participant. For your own machine only.",
            soft_wrap=True,
            highlight=False,
        )
    elif chain_url:
        console.print(
            "  chain keys: the development mnemonic's accounts on the node (anvil's): for a development node",
            soft_wrap=True,
            highlight=False,
        )
    elif keys_file is not None:
        console.print(
            f"  chain keys: random, held by this sandbox only (in {keys_file}, mode 0600)",
            soft_wrap=True,
            highlight=False,
        )
    else:
        console.print("  chain keys: random, held by this sandbox only (in memory)", highlight=False)

    served = market.scenario
    from_file = {"operator": spec.operator.api_key}
    from_file.update({r.key: r.api_key for r in spec.regulators})
    from_file.update({i.key: i.api_key for i in spec.issuers})
    from_file.update({i.key: i.api_key for i in spec.investors if i.api_key})
    rows = [("operator", "-", "operator", served.operator.api_key, market.operator, "Sandbox operator")]
    rows += [("regulator", r.jurisdiction, r.key, r.api_key, market.accounts[r.key], r.name) for r in served.regulators]
    rows += [("issuer", i.jurisdiction, i.key, i.api_key, market.accounts[i.key], i.name) for i in served.issuers]
    rows += [
        ("investor", i.jurisdiction, i.key, i.api_key, market.accounts[i.key], i.name)
        for i in served.investors
        if i.api_key
    ]
    # Plain lines, not a table: keys must never be truncated or wrapped, whatever the terminal width.
    console.print(
        f"[bold]API keys[/bold] of scenario {served.name} (written in {scenario_file}; send as "
        "`Authorization: Bearer <key>`) and each participant's chain address:",
        soft_wrap=True,
        highlight=False,
    )
    published = False
    for role, jurisdiction, key, api_key, address, who in rows:
        shown = api_key
        if is_sealed(api_key):  # restored from the data directory, which keeps digests only
            plain = from_file.get(key)
            shown = plain if plain is not None and seal_api_key(plain) == api_key else "(kept as a digest only)"
        published = published or not shown.startswith("(")
        console.print(f"  {role:<10} {jurisdiction:<3} {shown:<32} {address} {who}", soft_wrap=True, highlight=False)
    if not is_loopback(host) and (published or reproducible):
        reasons = []
        if published:
            reasons.append(f"the API keys are those written in {scenario_file} (the demo's are published)")
        if reproducible:
            reasons.append("the chain's accounts derive from the well-known test mnemonic")
        console.print(
            f"[bold red]WARNING:[/bold red] {host} is not a loopback address, so other machines can reach this "
            f"sandbox, and {' and '.join(reasons)}: whoever has them can act as any participant, the "
            "regulators included. Give the scenario keys of your own (or bind 127.0.0.1).",
            soft_wrap=True,
            highlight=False,
        )
    console.print("Press Ctrl+C to stop.\n")


@app.command()
def seed(
    chain_url: Annotated[str, typer.Option(help="JSON-RPC URL of the node to deploy on (e.g. anvil).")],
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario to deploy (default: the demo).", exists=True, dir_okay=False)
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the deployment (addresses) here as JSON.")] = None,
    accounts: Annotated[int, typer.Option(help="Accounts of the development mnemonic to sign for.")] = 20,
) -> None:
    """Deploy a scenario on an external node and print (or write) where everything is."""
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from sandbox.chain.factory import connect
    from sandbox.errors import SandboxError
    from sandbox.market import fund_accounts, load_scenario
    from sandbox.scenario import DEMO_SCENARIO, Scenario

    scenario = scenario or DEMO_SCENARIO
    try:
        spec = Scenario.from_file(scenario)
    except (ValueError, OSError) as exc:
        console.print(f"[red]The scenario {scenario} is not valid:[/red]\n{exc}")
        raise typer.Exit(2) from None
    try:
        chain = connect(chain_url, num_accounts=max(accounts, spec.accounts_needed))
    except (SandboxError, OSError, ValueError) as exc:
        console.print(f"[red]Cannot use the chain at {chain_url}:[/red] {exc}")
        raise typer.Exit(2) from None
    try:
        funded = fund_accounts(chain, spec.accounts_needed)
    except SandboxError as exc:
        console.print(f"[red]Cannot deploy {spec.name} on {chain_url}:[/red] {exc}")
        raise typer.Exit(1) from None
    if funded:
        console.print(
            f"Funded {len(funded)} of the scenario's {spec.accounts_needed} accounts from the first account "
            "(they held less than 1 ether)."
        )
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task(f"Deploying {spec.name}", total=None)
        try:
            market = load_scenario(
                chain,
                spec,
                progress=lambda done, total, what: bar.update(task, completed=done, total=total, description=what),
            )
        except SandboxError as exc:
            console.print(f"[red]Could not deploy the scenario:[/red] {exc}")
            raise typer.Exit(1) from None
    deployment = {
        "chain_id": chain.chain_id,
        "scenario": spec.name,
        "registry": market.registry.address,
        "securities": {symbol: token.address for symbol, token in market.securities.items()},
        "cash_tokens": {symbol: token.address for symbol, token in market.cash.items()},
        "settlement": market.settlement.address if market.settlement else None,
        "paying_agents": {symbol: agent.address for symbol, agent in market.paying_agents.items()},
        "accounts": market.accounts,
        "wallets": {key: list(wallets) for key, wallets in market.wallets.items()},
    }
    text = json.dumps(deployment, indent=2)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"[green]Deployed {spec.name} on chain {chain.chain_id}[/green]; addresses in {out}")
    else:
        typer.echo(text)


@app.command("check-scenario")
def check_scenario(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Validate a scenario file without starting anything."""
    from sandbox.scenario import Scenario

    try:
        spec = Scenario.from_file(path)
    except (ValueError, OSError) as exc:
        console.print(f"[red]{path} is not a valid scenario:[/red]\n{exc}")
        raise typer.Exit(2) from None
    wallets = sum(len(i.all_accounts) for i in spec.investors)
    console.print(
        f"[green]{path}: scenario {spec.name!r} is valid[/green] ({len(spec.investors)} investors with "
        f"{wallets} wallets, {len(spec.securities)} securities, {len(spec.cash_tokens)} cash tokens, "
        f"{len(spec.history)} history steps; needs {spec.accounts_needed} chain accounts)"
    )


cli_client.register(app)


if __name__ == "__main__":
    app()
