"""`SecurityToken._newCtx` lays the rulebook's `Ctx` and the six structs it holds out in memory by hand
(one zeroed block instead of the compiler's field-by-field allocation). Its word counts must follow
the struct definitions: a field added to one of them without updating the allocator would make two
structs share memory. This reads the sources and checks the allocator's numbers against them."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "contracts" / "src"


def _fields(source: str, struct: str) -> list[tuple[str, str]]:
    """(type, name) of each field of `struct` in `source`."""
    match = re.search(rf"\bstruct {struct} \{{(.*?)\}}", source, re.S)
    assert match, struct
    body = re.sub(r"//[^\n]*", "", match.group(1))
    words = [field.split() for field in body.split(";") if field.strip()]
    return [(parts[-2], parts[-1]) for parts in words]


def _hex(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, pattern
    return int(match.group(1), 16)


def test_the_hand_made_ctx_block_follows_the_struct_definitions() -> None:
    token = (SRC / "token" / "SecurityToken.sol").read_text()
    base = (SRC / "token" / "SecurityTokenBase.sol").read_text()
    registry = (SRC / "interfaces" / "IInvestorRegistry.sol").read_text()
    ctx = _fields(token, "Ctx")
    words = {
        "Config": len(_fields(base, "Config")),
        "Limits": len(_fields(base, "Limits")),
        "Wallet": len(_fields(base, "Wallet")),
        "IInvestorRegistry.WalletRecord": len(_fields(registry, "WalletRecord")),
    }
    # the six structs come first, in this order, each a pointer word in Ctx
    record = "IInvestorRegistry.WalletRecord"
    nested = ["Config", "Limits", "Wallet", "Wallet", record, record]
    assert [t for t, _ in ctx[:6]] == nested
    assert not any(t in words for t, _ in ctx[6:])

    allocator = re.search(r"function _newCtx\(\).*?\n    \}\n", token, re.S)
    assert allocator
    code = allocator.group(0)
    size = _hex(r"let size := (0x[0-9a-f]+)", code)
    head = _hex(r"let q := add\(p, (0x[0-9a-f]+)\)", code)
    steps = [int(x, 16) for x in re.findall(r"q := add\(q, (0x[0-9a-f]+)\)", code)]
    last = _hex(r"mstore\(add\(p, 0xa0\), add\(q, (0x[0-9a-f]+)\)\)", code)
    assert head == 32 * len(ctx)
    assert [*steps, last] == [32 * words[t] for t in nested[:5]]
    assert size == 32 * (len(ctx) + sum(words[t] for t in nested))
