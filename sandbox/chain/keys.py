"""The in-process chains' keys and clock names, without an engine: what a caller that has not yet chosen
py-evm or revm needs (`sandbox.deployment`, the CLI), so choosing revm never loads py-evm and eth-tester."""

from __future__ import annotations

from typing import Literal

#: The well-known development mnemonic (anvil, Hardhat): account 0 is 0xf39F…2266. Its keys are public:
#: a chain others can reach must use keys of its own (`random_mnemonic`).
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
#: How an in-process chain stamps its blocks: "fixed" from a fixed genesis, "wall" by the wall clock.
Clock = Literal["fixed", "wall"]


def random_mnemonic() -> str:
    """A fresh 24-word BIP-39 mnemonic (256 bits from the operating system's CSPRNG): accounts whose
    keys nobody else holds."""
    from eth_account.hdaccount import generate_mnemonic  # noqa: PLC0415
    from eth_account.types import Language  # noqa: PLC0415

    return generate_mnemonic(24, Language.ENGLISH)
