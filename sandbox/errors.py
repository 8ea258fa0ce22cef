"""The sandbox's error tree. Everything the library raises on purpose derives from `SandboxError`."""

from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    """Root of every error the sandbox raises on purpose."""


class ChainError(SandboxError):
    """The chain could not be reached or refused a transaction for a reason that is not a revert."""


class DevFeatureUnavailable(ChainError):
    """A dev-only power (snapshot, time travel, mining) was asked of a backend that lacks it."""


class ContractReverted(SandboxError):
    """A call or transaction reverted.

    `error_name` and `args` are the decoded custom error (for example ``ReceiverNotRegistered`` with
    ``{"wallet": "0x…"}``); `error_name` is ``"Error"`` for a string revert, ``"Panic"`` for a panic and
    ``None`` when the revert data matches no known error. `rule_code` and `rule_message` are filled
    when the error enforces a rule of the rulebook.
    """

    def __init__(
        self,
        error_name: str | None,
        args: dict[str, Any],
        data: bytes,
        *,
        tx_hash: str | None = None,
        rule_code: int | None = None,
        rule_name: str | None = None,
        rule_message: str | None = None,
    ) -> None:
        self.error_name = error_name
        self.args_by_name = args
        self.data = data
        self.tx_hash = tx_hash
        self.rule_code = rule_code
        self.rule_name = rule_name
        self.rule_message = rule_message
        super().__init__(error_name)

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.args_by_name.items())
        text = f"{self.error_name or 'unknown revert'}({shown})"
        return f"{text}: {self.rule_message}" if self.rule_message else text


class ContractNotDeployed(SandboxError):
    """A read found no contract code at the address (e.g. as of a block before its deployment)."""

    def __init__(self, address: str, block: int | str) -> None:
        self.address = address
        self.block = block
        super().__init__(f"no contract at {address} as of block {block}")


class ArtifactError(SandboxError):
    """A compiled contract artifact is missing or stale."""
