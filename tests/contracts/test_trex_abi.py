"""The token driven through T-REX's own ABI artifacts (npm `@tokenysolutions/t-rex`, pinned in
tools/node): every `IToken` function, `AgentRole` (agents and ownership), the `IIdentityRegistry`
reads and the `IModularCompliance` reads, with web3.py and THOSE ABIs only; the events the token emits
decode with them. What ERC-3643 tooling written against T-REX does first (issue #12)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from web3.contract import Contract
from web3.logs import DISCARD

from sandbox.chain.anvil import NODE_TOOLS_DIR
from sandbox.errors import ContractReverted
from tests.contracts.conftest import World

pytestmark = pytest.mark.node

TREX_PACKAGE = NODE_TOOLS_DIR / "node_modules" / "@tokenysolutions" / "t-rex"
ARTIFACTS = {
    "IToken": "contracts/token/IToken.sol/IToken.json",
    "AgentRole": "contracts/roles/AgentRole.sol/AgentRole.json",
    "IIdentityRegistry": "contracts/registry/interface/IIdentityRegistry.sol/IIdentityRegistry.json",
    "IModularCompliance": "contracts/compliance/modular/IModularCompliance.sol/IModularCompliance.json",
}


@pytest.fixture(scope="session")
def trex_abis() -> dict[str, list[dict[str, Any]]]:
    """T-REX's ABIs from its npm package, installed in tools/node by `make node-tools` (a dependency of
    `make test`); the test fails, never skips, when it is missing."""
    if not all((TREX_PACKAGE / "artifacts" / p).is_file() for p in ARTIFACTS.values()):
        pytest.fail(
            f"@tokenysolutions/t-rex is missing from {NODE_TOOLS_DIR}: run `make node-tools` (npm ci there) "
            "or `make test`; `make test-fast` runs without it"
        )
    version = json.loads((TREX_PACKAGE / "package.json").read_text())["version"]
    assert version == "4.1.6", f"tools/node pins @tokenysolutions/t-rex 4.1.6, found {version}"
    return {name: json.loads((TREX_PACKAGE / "artifacts" / p).read_text())["abi"] for name, p in ARTIFACTS.items()}


def _functions(abi: list[dict[str, Any]], *, views: bool | None = None) -> set[str]:
    return {
        item["name"]
        for item in abi
        if item["type"] == "function" and (views is None or (item["stateMutability"] in ("view", "pure")) == views)
    }


class Driver:
    """Sends T-REX-encoded calls through the chain seam and decodes receipts with T-REX's ABI."""

    def __init__(self, w: World, contract: Contract) -> None:
        self.w, self.c = w, contract
        self.called: set[str] = set()

    def read(self, fn: str, *args: Any) -> Any:
        self.called.add(fn)
        return self.c.functions[fn](*args).call()

    def send(self, fn: str, *args: Any, sender: str) -> dict[str, list[Any]]:
        """Sends `fn`; returns the receipt's events decoded with T-REX's ABI, by name."""
        self.called.add(fn)
        data = self.c.encode_abi(fn, args=list(args))
        receipt = self.w.chain.transact(sender, self.c.address, bytes.fromhex(data[2:]))
        raw = self.w.chain.w3.eth.get_transaction_receipt(receipt.transaction_hash)  # type: ignore[arg-type]
        decoded: dict[str, list[Any]] = {}
        for event in self.c.abi:
            if event["type"] == "event":
                for log in self.c.events[event["name"]]().process_receipt(raw, errors=DISCARD):
                    decoded.setdefault(event["name"], []).append(dict(log["args"]))
        return decoded

    def refused(self, fn: str, *args: Any, sender: str, error: str) -> None:
        self.called.add(fn)
        data = self.c.encode_abi(fn, args=list(args))
        with pytest.raises(ContractReverted) as info:
            self.w.chain.transact(sender, self.c.address, bytes.fromhex(data[2:]))
        assert info.value.error_name == error or error in str(info.value), str(info.value)


def test_every_itoken_function_through_trex_abi(w: World, trex_abis: dict[str, list[dict[str, Any]]]) -> None:
    w3 = w.chain.w3
    t = Driver(w, w3.eth.contract(address=w3.to_checksum_address(w.token.address), abi=trex_abis["IToken"]))
    issuer, fca = w.issuer, w.fca
    uk1, uk2, us, uk1b = w.w["uk1"], w.w["uk2"], w.w["us_acc"], w.w["uk1b"]
    onchain = w.w["uk3"]

    # ERC-20 and metadata
    assert t.read("name") == "Thames 2028" and t.read("symbol") == "THAMES28" and t.read("decimals") == 0
    assert t.read("totalSupply") == 3000 and t.read("balanceOf", uk1) == 1000
    ev = t.send("transfer", uk2, 10, sender=uk1)
    assert ev["Transfer"] == [{"from": uk1, "to": uk2, "value": 10}]
    ev = t.send("approve", uk2, 5, sender=uk1)
    assert ev["Approval"] == [{"owner": uk1, "spender": uk2, "value": 5}]
    assert t.read("allowance", uk1, uk2) == 5
    t.send("transferFrom", uk1, us, 5, sender=uk2)
    assert t.read("balanceOf", us) == 1005
    # token information
    assert t.read("version") == "sandbox-erc3643-1.0"
    ev = t.send("setName", "Thames 2029", sender=issuer)
    assert ev["UpdatedTokenInformation"][0]["_newDecimals"] == 0
    ev = t.send("setSymbol", "THAMES29", sender=issuer)
    assert ev["UpdatedTokenInformation"][0]["_newVersion"] == "sandbox-erc3643-1.0"
    ev = t.send("setOnchainID", onchain, sender=issuer)
    assert ev["UpdatedTokenInformation"][0]["_newOnchainID"] == onchain == t.read("onchainID")
    ir, compliance = t.read("identityRegistry"), t.read("compliance")
    assert t.send("setIdentityRegistry", ir, sender=issuer)["IdentityRegistryAdded"][0]["_identityRegistry"] == ir
    assert t.send("setCompliance", compliance, sender=issuer)["ComplianceAdded"][0]["_compliance"] == compliance
    # pause
    assert t.send("pause", sender=issuer)["Paused"] == [{"_userAddress": issuer}]
    assert t.read("paused") is True
    assert t.send("unpause", sender=issuer)["Unpaused"] == [{"_userAddress": issuer}]
    # freezes
    ev = t.send("setAddressFrozen", uk2, True, sender=issuer)
    assert ev["AddressFrozen"] == [{"_userAddress": uk2, "_isFrozen": True, "_owner": issuer}]
    assert t.read("isFrozen", uk2) is True
    ev = t.send("batchSetAddressFrozen", [uk2], [False], sender=issuer)
    assert ev["AddressFrozen"][0]["_isFrozen"] is False
    assert t.send("freezePartialTokens", us, 100, sender=issuer)["TokensFrozen"] == [
        {"_userAddress": us, "_amount": 100}
    ]
    assert t.send("unfreezePartialTokens", us, 40, sender=issuer)["TokensUnfrozen"] == [
        {"_userAddress": us, "_amount": 40}
    ]
    t.send("batchFreezePartialTokens", [us, uk1], [40, 10], sender=issuer)
    t.send("batchUnfreezePartialTokens", [uk1], [10], sender=issuer)
    assert t.read("getFrozenTokens", us) == 100 and t.read("getFrozenTokens", uk1) == 0
    # supply and enforcement
    assert t.send("mint", uk1, 50, sender=issuer)["Transfer"][0]["from"] == "0x" + "00" * 20
    t.send("batchMint", [uk1, uk2], [1, 2], sender=issuer)
    ev = t.send("burn", us, 1000, sender=issuer)  # takes 95 frozen units
    assert ev["TokensUnfrozen"] == [{"_userAddress": us, "_amount": 95}]
    t.send("batchBurn", [uk1], [1], sender=issuer)
    ev = t.send("forcedTransfer", us, uk1, 5, sender=issuer)
    assert ev["TokensUnfrozen"] == [{"_userAddress": us, "_amount": 5}] and ev["Transfer"][0]["value"] == 5
    t.send("batchForcedTransfer", [uk1], [uk2], [1], sender=issuer)
    t.send("batchTransfer", [uk2, us], [1, 1], sender=uk1)
    # recovery of a frozen wallet: every freeze moves, announced as T-REX announces it
    t.send("freezePartialTokens", uk1, 20, sender=fca)
    t.send("setAddressFrozen", uk1, True, sender=issuer)
    ev = t.send("recoveryAddress", uk1, uk1b, uk1, sender=issuer)
    assert ev["RecoverySuccess"] == [{"_lostWallet": uk1, "_newWallet": uk1b, "_investorOnchainID": uk1}]
    assert ev["TokensUnfrozen"] == [{"_userAddress": uk1, "_amount": 20}]
    assert ev["TokensFrozen"] == [{"_userAddress": uk1b, "_amount": 20}]
    assert [(e["_userAddress"], e["_isFrozen"]) for e in ev["AddressFrozen"]] == [(uk1, False), (uk1b, True)]
    assert t.read("isFrozen", uk1b) and t.read("getFrozenTokens", uk1b) == 20

    assert t.called == _functions(trex_abis["IToken"]), _functions(trex_abis["IToken"]) - t.called


def test_agent_role_and_ownership_through_trex_abi(w: World, trex_abis: dict[str, list[dict[str, Any]]]) -> None:
    w3 = w.chain.w3
    a = Driver(w, w3.eth.contract(address=w3.to_checksum_address(w.token.address), abi=trex_abis["AgentRole"]))
    new_agent, new_owner = w.chain.accounts[14].address, w.chain.accounts[15].address
    assert a.read("owner") == w.issuer and a.read("isAgent", w.issuer) and not a.read("isAgent", new_agent)
    assert a.send("addAgent", new_agent, sender=w.issuer)["AgentAdded"] == [{"_agent": new_agent}]
    assert a.read("isAgent", new_agent)
    assert a.send("removeAgent", new_agent, sender=w.issuer)["AgentRemoved"] == [{"_agent": new_agent}]
    ev = a.send("transferOwnership", new_owner, sender=w.issuer)
    assert ev["OwnershipTransferred"] == [{"previousOwner": w.issuer, "newOwner": new_owner}]
    assert a.read("owner") == new_owner
    a.refused("renounceOwnership", sender=new_owner, error="OwnableInvalidOwner")
    assert a.called == _functions(trex_abis["AgentRole"])


def test_identity_registry_and_compliance_through_trex_abi(
    w: World, trex_abis: dict[str, list[dict[str, Any]]]
) -> None:
    w3 = w.chain.w3
    token = w3.eth.contract(address=w3.to_checksum_address(w.token.address), abi=trex_abis["IToken"])
    registry_address = token.functions.identityRegistry().call()
    ir = Driver(w, w3.eth.contract(address=registry_address, abi=trex_abis["IIdentityRegistry"]))
    uk1, uk1b, us = w.w["uk1"], w.w["uk1b"], w.w["us_acc"]
    assert ir.read("isVerified", uk1b) and not ir.read("isVerified", w.outsider)
    assert ir.read("identity", uk1b) == uk1 and ir.read("investorCountry", us) == 840
    assert ir.read("contains", uk1) and not ir.read("contains", w.outsider)
    assert ir.read("identityStorage") == w.registry.address
    assert ir.read("issuersRegistry") == ir.read("topicsRegistry") == "0x" + "00" * 20
    assert ir.called == _functions(trex_abis["IIdentityRegistry"], views=True)
    c = Driver(w, w3.eth.contract(address=token.functions.compliance().call(), abi=trex_abis["IModularCompliance"]))
    assert c.read("getTokenBound") == w.token.address and not c.read("isModuleBound", w.registry.address)
    assert c.read("getModules") == [] and c.read("canTransfer", uk1, us, 1)
    assert not c.read("canTransfer", uk1, w.outsider, 1)
    assert c.called == _functions(trex_abis["IModularCompliance"], views=True)
    c.refused("addModule", w.outsider, sender=w.issuer, error="ComplianceIsBuiltIn")


def test_tools_node_pins_trex() -> None:
    package = json.loads((NODE_TOOLS_DIR / "package.json").read_text())
    lock = json.loads((NODE_TOOLS_DIR / "package-lock.json").read_text())
    assert package["dependencies"]["@tokenysolutions/t-rex"] == "4.1.6"
    assert lock["packages"]["node_modules/@tokenysolutions/t-rex"]["version"] == "4.1.6"
    assert lock["packages"]["node_modules/@tokenysolutions/t-rex"]["integrity"].startswith("sha512-")
