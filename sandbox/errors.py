"""The sandbox's error tree. Everything the library raises on purpose derives from `SandboxError`, and
every error says what kind of refusal it is (`refusal`, whose value a gateway answers with as its HTTP
status), its stable machine `code` and a `title`: a gateway turns any of them into an answer in one place."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from sandbox.rules import Refusal, refusal_of


class SandboxError(Exception):
    """Root of every error the sandbox raises on purpose."""

    #: A short title of the refusal.
    title: ClassVar[str] = "Sandbox error"

    @property
    def refusal(self) -> Refusal:
        """The kind of refusal: the state refuses it, unless a subclass says otherwise."""
        return Refusal.CONFLICT

    @property
    def code(self) -> str:
        """Stable UPPER_SNAKE machine code of the refusal."""
        return "SANDBOX_ERROR"

    @property
    def detail(self) -> str:
        """The sentence a caller reads."""
        return str(self)

    def details(self) -> dict[str, Any]:
        """Machine-readable extras of the refusal (none here)."""
        return {}


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

    title: ClassVar[str] = "Refused on chain"

    @property
    def refusal(self) -> Refusal:
        """The kind of refusal its custom error is (`sandbox.rules.CUSTOM_ERRORS`)."""
        return refusal_of(self.error_name)

    @property
    def code(self) -> str:
        """The rule's name, else the custom error's name in UPPER_SNAKE, else CHAIN_REVERT."""
        if self.rule_name:
            return self.rule_name
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", self.error_name).upper() if self.error_name else "CHAIN_REVERT"

    @property
    def detail(self) -> str:
        return self.rule_message or f"The chain refused the operation: {self}."

    def details(self) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "error": self.error_name,
            "arguments": {k: _jsonable(v) for k, v in self.args_by_name.items()},
        }
        if self.rule_code is not None:
            extra["rule_code"] = self.rule_code
        if self.tx_hash:
            extra["tx_hash"] = self.tx_hash
        return extra

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.args_by_name.items())
        text = f"{self.error_name or 'unknown revert'}({shown})"
        return f"{text}: {self.rule_message}" if self.rule_message else text


class ContractNotDeployed(SandboxError):
    """A read found no contract code at the address (e.g. as of a block before its deployment)."""

    title: ClassVar[str] = "Not deployed yet"

    @property
    def refusal(self) -> Refusal:
        return Refusal.NOT_FOUND

    @property
    def code(self) -> str:
        return "NOT_DEPLOYED_AT_BLOCK"

    @property
    def detail(self) -> str:
        return f"The contract did not exist yet as of block {self.block}."

    def __init__(self, address: str, block: int | str) -> None:
        self.address = address
        self.block = block
        super().__init__(f"no contract at {address} as of block {block}")


class ArtifactError(SandboxError):
    """A compiled contract artifact is missing or stale."""


def _jsonable(value: Any) -> Any:
    """Integers past what JSON numbers carry exactly (2^53) as strings."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value
