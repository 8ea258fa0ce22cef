"""Group commit, for any engine: writes that arrive while a block is being made go into the next
block together, in arrival order, each with its own receipt or its own refusal.

An engine mixes `GroupCommit` in and implements the block-making primitive: `_sign` (the signed bytes
of a write; nonces are given here, in block order), `_begin_block` once per block, `_send_pending` per
transaction (refuse by raising: the block so far stays as it was), `_seal_block` once, then
`_receipt_for` per transaction sent (`ContractReverted` when it ran and failed); `_spend_nonce` /
`_release_nonce` keep the engine's nonce counter right after a send or a refusal. A node that mines by
itself sends in `_send_pending` and waits in `_receipt_for`; its `_seal_block` does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from sandbox.chain.base import Receipt

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


#: Whether the current context wants a refused transaction answered without sending it (`refusals_send_nothing`).
_DRY_RUN_FIRST: ContextVar[bool] = ContextVar("sandbox_dry_run_first", default=False)


@contextmanager
def refusals_send_nothing() -> Iterator[None]:
    """Within it, a transaction of ours (`Chain.transact`) that would revert is refused with its
    `ContractReverted` (the rule's error, without a transaction hash) and nothing is sent: no block, no nonce,
    no fee. The gateway runs every request in it, so a refused request changes nothing. An engine that can
    take a transaction back out of the block being made (`GroupCommit.refuses_in_block`: the in-process py-evm
    and revm chains) executes it once, in its place in that block, and takes it out again if it reverted, so it is
    judged on exactly the state and time it would be mined at. Other engines execute it first and throw the
    result away on the pending block (`_dry_run`); another writer's block landing between that dry run and
    this transaction's block can still make it revert when mined: it is then mined as any reverted
    transaction is, and its refusal carries the transaction hash. Contract creations and transactions
    signed elsewhere (`send_raw_transaction`) are sent as they are."""
    token = _DRY_RUN_FIRST.set(True)
    try:
        yield
    finally:
        _DRY_RUN_FIRST.reset(token)


class PendingWrite:
    """One caller's transaction waiting for a block: ours to sign (`signer`, `tx`) or signed elsewhere
    (`raw`). The committer fills in its receipt or its error."""

    __slots__ = ("done", "error", "raw", "receipt", "refuse_revert", "signer", "tx")

    def __init__(
        self, *, signer: LocalAccount | None = None, tx: dict[str, Any] | None = None, raw: bytes | None = None
    ) -> None:
        self.signer = signer
        self.tx = tx
        self.raw = raw
        self.done = False
        #: Refused, not mined, if it reverts (`refusals_send_nothing` on an engine that `refuses_in_block`).
        self.refuse_revert = False
        self.receipt: Receipt | None = None
        self.error: BaseException | None = None

    def succeed(self, receipt: Receipt) -> None:
        self.receipt, self.done = receipt, True

    def fail(self, error: BaseException) -> None:
        self.error, self.done = error, True

    def outcome(self) -> Receipt:
        if self.error is not None:
            raise self.error
        assert self.receipt is not None
        return self.receipt


class GroupCommit:
    """The queue and the committer; the engine provides the primitive (module docstring)."""

    #: True for an engine whose `_send_pending_refusing` takes a reverted transaction back out of the
    #: block being made: `refusals_send_nothing` then executes a write once, in the block, instead of a
    #: dry run before it and the execution in the block.
    refuses_in_block = False

    def __init__(self, write_lock: threading.RLock) -> None:
        self._write_lock = write_lock
        #: Writes waiting for the next block, guarded by `_queue_lock`.
        self._queue: list[PendingWrite] = []
        self._queue_lock = threading.Lock()

    def _commit(self, write: PendingWrite) -> Receipt:
        """Group commit. The caller queues its write and takes the write lock; whoever holds the lock
        takes every write queued so far (its own and those that arrived while the previous block was
        being made), in arrival order, into one block. A caller whose write went into someone else's
        block finds it done when it gets the lock, and returns at once. Alone, a caller makes a block of
        one straight away: no waiting for company, so a single caller is no slower."""
        if write.tx is not None and write.tx.get("to") is not None and _DRY_RUN_FIRST.get():
            if self.refuses_in_block:
                write.refuse_revert = True  # judged in its block, taken out again if it reverts
            else:
                self._dry_run(write.tx)  # raises the refusal; nothing is queued
        with self._queue_lock:
            self._queue.append(write)
        with self._write_lock:
            if not write.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit_batch(batch)
        return write.outcome()

    def _commit_batch(self, batch: Sequence[PendingWrite]) -> None:
        """Sends `batch` into one block and gives every write its receipt or its refusal (called with
        the write lock held). A write refused before it runs (the engine would not take it) gets the
        refusal and leaves the others alone; one that runs and reverts is mined, and its caller gets
        `ContractReverted`."""
        self._begin_block()
        sent: list[tuple[PendingWrite, bytes]] = []
        for write in batch:
            try:
                raw = self._sign(write)
                send = self._send_pending_refusing if write.refuse_revert else self._send_pending
                sent.append((write, send(raw)))
            except Exception as exc:
                self._release_nonce(write)
                write.fail(exc)
            else:
                self._spend_nonce(write)
        if not sent:
            return
        try:
            self._seal_block()
        except Exception as exc:
            self._forget_nonces()
            for write, _ in sent:
                write.fail(exc)
            return
        for write, tx_hash in sent:
            try:
                write.succeed(self._receipt_for(tx_hash, write.tx))
            except Exception as exc:
                write.fail(exc)

    def _dry_run(self, tx: dict[str, Any]) -> None:
        """Executes our unsigned transaction `tx` on the pending block and throws the result away; raises
        `ContractReverted` if it reverts (`refusals_send_nothing`)."""

    def _sign(self, write: PendingWrite) -> bytes:
        raise NotImplementedError

    def _spend_nonce(self, write: PendingWrite) -> None:
        """After `write` was sent: its sender's next nonce follows it."""

    def _release_nonce(self, write: PendingWrite) -> None:
        """After `write` was refused: its nonce is free again."""

    def _forget_nonces(self) -> None:
        """After a block failed to seal: every counted nonce is to be read from the chain again."""

    def _begin_block(self) -> None:
        """Prepares the next block."""

    def _send_pending(self, raw: bytes) -> bytes:
        """Adds a signed transaction to the block being made; returns its hash."""
        raise NotImplementedError

    def _send_pending_refusing(self, raw: bytes) -> bytes:
        """As `_send_pending`, but a transaction that runs and reverts is taken back out of the block
        (the block stays as it was before it) and its `ContractReverted`, without a transaction hash, is
        raised (engines that `refuses_in_block`)."""
        raise NotImplementedError

    def _seal_block(self) -> None:
        """Mines the block holding everything `_send_pending` took."""

    def _receipt_for(self, tx_hash: bytes, tx: dict[str, Any] | None) -> Receipt:
        """The receipt of a sent transaction; `ContractReverted` when it failed."""
        raise NotImplementedError
