"""CLI commands that talk to a running sandbox through its gateway (`sandbox serve`), as any client would.

httpx and rich's tables are imported when a command runs, not when `sandbox` starts (its help, `serve`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    import httpx
    from rich.table import Table

console = Console(soft_wrap=True)

Url = Annotated[str, typer.Option(envvar="SANDBOX_URL", help="Gateway URL (SANDBOX_URL).")]
Key = Annotated[str, typer.Option(envvar="SANDBOX_API_KEY", help="Your API key (SANDBOX_API_KEY).")]
DEFAULT_URL = "http://127.0.0.1:8000"


def request(method: str, url: str, path: str, key: str | None, **kwargs: Any) -> httpx.Response:
    import httpx  # noqa: PLC0415

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.request(method, url.rstrip("/") + path, headers=headers, timeout=60, **kwargs)
    except httpx.TransportError as exc:
        console.print(f"[red]Cannot reach the sandbox at {url}:[/red] {exc}. Is `sandbox serve` running?")
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        try:
            problem = response.json()
            console.print(f"[red]{problem.get('code', response.status_code)}:[/red] {problem.get('detail', '')}")
        except ValueError:
            console.print(f"[red]HTTP {response.status_code}[/red] {response.text[:500]}")
        raise typer.Exit(1)
    return response


def _table(title: str, columns: tuple[str, ...]) -> Table:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def status(url: Url = DEFAULT_URL) -> None:
        """Is the sandbox up: chain, head block and time, securities."""
        health = request("GET", url, "/health", None).json()
        console.print(
            f"[green]up[/green]  chain {health['chain_id']}  block {health['block_number']} "
            f"at {health['block_timestamp']}  securities: {health['securities']}"
        )

    @app.command()
    def positions(
        symbol: str,
        key: Key,
        url: Url = DEFAULT_URL,
        block: Annotated[int | None, typer.Option(help="As of this block.")] = None,
    ) -> None:
        """Positions of a security within your scope."""
        params: dict[str, Any] = {"limit": 500}
        if block is not None:
            params["block"] = block
        body = request("GET", url, f"/securities/{symbol}/positions", key, params=params).json()
        table = _table(
            f"{symbol} at block {body['block_number']} (supply {body['total_supply']})",
            ("wallet", "jurisdiction", "category", "balance", "frozen"),
        )
        for p in body["items"]:
            table.add_row(p["wallet"], str(p["jurisdiction"]), str(p["category"]), str(p["balance"]), str(p["frozen"]))
        console.print(table)

    @app.command("cap-table")
    def cap_table(
        symbol: str,
        key: Key,
        url: Url = DEFAULT_URL,
        csv: Annotated[bool, typer.Option("--csv", help="One CSV row per position.")] = False,
    ) -> None:
        """Cap table of a security, by jurisdiction and category (or CSV)."""
        params = {"format": "csv"} if csv else {}
        response = request("GET", url, f"/securities/{symbol}/cap-table", key, params=params)
        if csv:
            typer.echo(response.text, nl=False)
            return
        body = response.json()
        table = _table(
            f"{symbol} cap table at block {body['block_number']}: {body['holders']} holders",
            ("jurisdiction", "category", "holders", "balance"),
        )
        for b in body["buckets"]:
            table.add_row(str(b["jurisdiction"]), str(b["category"]), str(b["holders"]), str(b["balance"]))
        console.print(table)

    @app.command()
    def audit(key: Key, url: Url = DEFAULT_URL, actor: Annotated[str | None, typer.Option()] = None) -> None:
        """State-changing gateway requests (operator and regulators)."""
        params: dict[str, Any] = {"limit": 500}
        if actor:
            params["actor"] = actor
        body = request("GET", url, "/audit/requests", key, params=params).json()
        table = _table("Gateway audit trail", ("#", "principal", "method", "path", "status", "tx hash"))
        for r in body["items"]:
            table.add_row(
                str(r["sequence"]), str(r["principal"]), r["method"], r["path"], str(r["status"]), str(r["tx_hash"])
            )
        console.print(table)

    @app.command("time-travel")
    def time_travel(
        seconds: Annotated[int, typer.Argument(help="How far to move the clock forward.")],
        key: Key,
        url: Url = DEFAULT_URL,
    ) -> None:
        """Move the embedded chain's clock forward (operator; refused on other chains)."""
        body = request("POST", url, "/operator/time-travel", key, json={"seconds": seconds}).json()
        console.print(f"block {body['block_number']} at {body['block_timestamp']}")
