"""The revm engine: transactions executed by revm (PyPI's `pyrevm`), the chain's bookkeeping here.

``sandbox.chain.connect("revm")`` gives a `RevmChain`: the same `DevChain` seam as the embedded py-evm
chain (accounts from the same mnemonic, same chain id, same genesis time, the same fixed/wall clock),
with execution by revm. What is written here is only what a node keeps around the EVM:

- **Blocks**: one block per transaction (auto-mining, as eth-tester), numbered from genesis 0, each
  with its timestamp, EIP-1559 base fee (py-evm's rule: 1 gwei at genesis, ±1/8 towards half the gas
  limit), prevrandao derived from the parent hash (as `sandbox.chain._pyevm` does) and a hash. The
  hash is keccak of an RLP list of the block's fields and transaction hashes: stable and unique, but
  not an Ethereum header hash, and there is no state root.
- **Receipts and logs**, with a logs bloom; **nonces** and **fees** (the sender pays gas used times the
  effective gas price, the priority part goes to the coinbase, the base fee is burnt).
- **Snapshots/revert, time travel, mining** (the `DevChain` powers), and reads at past blocks: every
  block keeps the previous value of each account and storage slot it changed (an undo log), so a read
  "as of" block N runs on the head state with the later blocks' changes undone inside a revm
  checkpoint, and a dev `revert` undoes them for good.
- **Persistence**: with ``data_dir`` every block's raw transactions and timestamp are journalled and
  fsynced (the embedded chain's `ChainStore` format) before the call returns, and re-executed at start.
- A **web3.py provider** (`RevmProvider`) answering the JSON-RPC methods the sandbox uses (blocks,
  receipts, logs, balances, code, storage, calls, raw transactions), so `chain.w3`, the read model's
  indexer and the `/rpc` endpoint work as on the embedded chain.

How revm is driven. pyrevm 0.3.7 runs each call inside one long-lived journal and never finalizes a
transaction: accounts and slots touched by an earlier transaction would stay warm (EIP-2929) and
"original" values (EIP-2200) would be stale, so gas would not match a real chain. Each transaction
therefore runs inside a revm checkpoint; its state changes are read out of the journal, the
checkpoint is reverted (every account cold again) and the changes are written to revm's database.
pyrevm exposes a call's state changes only through its debug rendering of the journal, which is
parsed here (`_changed_slots`): a pyrevm upgrade must be checked against the
differential tests (tests/chain/test_revm_differential.py). That rendering printed the code of every
contract the transaction touched (88 KB for our compliant transfer, 8.5 KB for an ERC-20 transfer), and
printing it cost more than the transaction's bytecode; so before it is rendered, the touched accounts
whose code is already in revm's database get their journal entry's code taken out (`_run`: the account
was loaded in the transaction's checkpoint and leaves with it; revm loads code by hash when an account
lacks it), and only a new contract's code is printed (5 KB and 3 KB rendered now).

Differences from py-evm, on purpose or by pyrevm's API: ``GASPRICE`` reads the effective gas price
for calls and 0 inside a contract creation, ``BASEFEE`` reads 0 and ``GASLIMIT`` the constant block
gas limit; access lists are not warmed; blob and EIP-7702 transactions are refused. Prague's EIP-7623
calldata floor, which revm 8 lacks, is applied here (`calldata_floor`); py-evm's EIP-2935 block-hash
history contract is not kept.

BLOCKHASH: pyrevm offers no way to give revm's database the chain's block hashes (its empty database
answers keccak of the number's decimal text), so a transaction or call that touches code holding a
BLOCKHASH instruction (`uses_blockhash`, noted once per code hash as code is deployed) is executed
again by py-evm on a copy of the same world with the chain's hashes of the 256 previous blocks, and
that outcome is the one kept (`sandbox.chain.blockhash`). None of the sandbox's contracts reads it.
"""

from __future__ import annotations

import io
import logging
import pickle
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, cast

from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_utils import to_checksum_address
from pyrevm import EVM, BlockEnv, CfgEnv, Env
from pyrevm import AccountInfo as _PyAccountInfo
from web3 import Web3
from web3.exceptions import BlockNotFound
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from sandbox.chain._txcodec import SignedTx, Signer, checksum, decode_signed, keccak, rlp_encode
from sandbox.chain.base import Block as ChainBlock
from sandbox.chain.base import BlockTransaction, ChainAccount, Log, Receipt
from sandbox.chain.groupcommit import PendingWrite
from sandbox.chain.persistence import (
    DEFAULT_SNAPSHOT_EVERY,
    DEFAULT_SNAPSHOT_SECONDS,
    BlockRecord,
    ChainStore,
    PersistenceError,
    Recovery,
    RevertRecord,
    _DataOnlyUnpickler,
)
from sandbox.chain.revert import RevertDecoder
from sandbox.chain.web3chain import DEFAULT_GAS, MAX_FEE_PER_GAS, Web3Chain, check_signed_for
from sandbox.errors import ChainError, ContractReverted

DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_HD_PATH = "m/44'/60'/0'/0"
DEFAULT_GENESIS_TIMESTAMP = 1_767_225_600
DEFAULT_ACCOUNT_BALANCE = 1_000_000 * 10**18
#: eth-tester's chain id, so a transaction signed for the embedded chain is valid here too.
DEFAULT_CHAIN_ID = 131277322940537
BLOCK_GAS_LIMIT = 60_000_000
INITIAL_BASE_FEE = 1_000_000_000
SPEC = "PRAGUE"
_ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_EMPTY_CODE_HASH = keccak(b"")
_NO_ACCOUNT = (0, 0, _EMPTY_CODE_HASH)
#: Deploys contract code in a checkpoint when a snapshot is loaded (`RevmChain._install_code`).
_SCRATCH_DEPLOYER = "0x00000000000000000000000000000000005a4e42"
_log = logging.getLogger(__name__)
#: pyrevm's stubs lag its API (`AccountInfo(balance=...)`, `deploy(gas_price=...)`).
_AccountInfo: Any = _PyAccountInfo

Clock = Literal["fixed", "wall"]

#: How pyrevm renders a journal entry recording a slot's value before a write (``StorageChange { address:
#: 0x<address>, key: <slot>, had_value: Some(<value>) }``).
_CHANGE_ENTRY = "StorageChange { address: "
_HAD_VALUE = "had_value: Some("
#: After an account's address: the length of its analysed code (pyrevm pads analysed code with zeros).
_CODE_LENGTH = r": Account \{ info: AccountInfo \{[^}]*?state: Analysed \{ len: (\d+)"
_REVERT_OUTPUT = re.compile(r"output: 0x([0-9a-f]*)")


def _changed_slots(evm: Any, journal: str) -> list[tuple[str, int, int, int]]:
    """(address, slot, previous, present) of every slot the open transaction changed. The slots and their
    previous values come from pyrevm's rendering of its journal entries (``StorageChange { address:
    0x<address>, key: <slot>, had_value: Some(<value>) }``: the first per slot holds the value before the
    transaction; ``had_value: None`` only marks a slot loaded); the present values from revm. The entries
    are at the end of the rendering, after the accounts, so they are found from the end. Read with
    `str.find`, not a regular expression: the regex took 10-20 us a transaction, this 2-4 us."""
    first: dict[tuple[str, int], int] = {}
    start = journal.rfind("journal: [")
    found = journal.find(_HAD_VALUE, start)
    while found >= 0:
        entry = journal.rfind(_CHANGE_ENTRY, start, found)
        if entry < 0:
            raise ChainError("pyrevm's journal is not rendered as this engine reads it (pyrevm upgraded?)")
        entry += len(_CHANGE_ENTRY)
        address = journal[entry : entry + 42]
        key = entry + 49  # past "0x<40 hex digits>, key: "
        value = found + len(_HAD_VALUE)
        end = journal.find(")", value)
        first.setdefault((address, int(journal[key : journal.find(",", key)])), int(journal[value:end]))
        found = journal.find(_HAD_VALUE, end)
    out = []
    for (address, slot), before in first.items():
        after = int(evm.storage(address, slot))
        if after != before:
            out.append((address, slot, before, after))
    return out


_BLOCKHASH = 0x40
_PUSH1, _PUSH32 = 0x60, 0x7F


def uses_blockhash(code: bytes) -> bool:
    """True when `code`, read as instructions (PUSH data skipped), holds a BLOCKHASH (0x40): such code
    runs on py-evm (`sandbox.chain.blockhash`), since revm's BLOCKHASH cannot be given this chain's
    hashes through pyrevm."""
    if code.find(_BLOCKHASH) < 0:
        return False
    i, end = 0, len(code)
    while i < end:
        op = code[i]
        if op == _BLOCKHASH:
            return True
        i += op - _PUSH1 + 2 if _PUSH1 <= op <= _PUSH32 else 1
    return False


def _tx_fields(tx: SignedTx) -> tuple[Any, ...]:
    """A decoded transaction as plain data (a snapshot keeps it so, and loads it without decoding)."""
    return (
        tx.raw, tx.hash, tx.type, tx.chain_id, tx.nonce, tx.max_priority_fee, tx.max_fee, tx.gas, tx.to,
        tx.value, tx.data, tx.access_list, tx.v, tx.r, tx.s, tx.sender,
    )  # fmt: skip


def calldata_floor(data: bytes) -> int:
    """EIP-7623 (Prague): a transaction uses at least 21,000 + 10 gas per calldata token (a zero byte is
    one token, any other byte four). revm 8, under pyrevm 0.3.7, predates it; py-evm applies it."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


def next_base_fee(parent_base_fee: int, parent_gas_used: int, gas_limit: int) -> int:
    """py-evm's London rule (`eth.vm.forks.london.headers.calculate_expected_base_fee_per_gas`)."""
    target = gas_limit // 2
    if parent_gas_used == target:
        return parent_base_fee
    if parent_gas_used > target:
        delta = max(parent_base_fee * (parent_gas_used - target) // target // 8, 1)
        return parent_base_fee + delta
    delta = parent_base_fee * (target - parent_gas_used) // target // 8
    return max(parent_base_fee - delta, 0)


def logs_bloom(logs: Sequence[Log]) -> int:
    bloom = 0
    for log in logs:
        for item in (bytes.fromhex(log.address[2:]), *log.topics):
            digest = keccak(item)
            for i in (0, 2, 4):
                bloom |= 1 << (int.from_bytes(digest[i : i + 2], "big") & 2047)
    return bloom


@dataclass(frozen=True)
class TxReceipt:
    """What a mined transaction left: status, gas, logs, and its return or revert data."""

    tx: SignedTx
    block_number: int
    index: int
    status: int
    gas_used: int
    cumulative_gas_used: int
    effective_gas_price: int
    contract_address: str | None
    logs: tuple[Log, ...]
    output: bytes


@dataclass
class Block:
    number: int
    timestamp: int
    base_fee: int
    prevrandao: bytes
    parent_hash: bytes
    hash: bytes = b""
    gas_used: int = 0
    receipts: list[TxReceipt] = field(default_factory=list)
    #: (address, None, previous (balance, nonce, code_hash, code)) or (address, slot, previous value),
    #: in the order the changes were made.
    undo: list[tuple[str, int | None, Any]] = field(default_factory=list)


#: balance, nonce, code hash, and for new code: pyrevm's `AccountInfo` holding it analysed, and its length
_AccountState = tuple[int, int, bytes, tuple[Any, int] | None]


@dataclass(frozen=True)
class _Outcome:
    success: bool
    gas_used: int
    output: bytes
    logs: tuple[tuple[str, tuple[bytes, ...], bytes], ...]
    contract_address: str | None
    accounts: dict[str, _AccountState]
    slots: list[tuple[str, int, int, int]]  # address, slot, previous, present
    #: The message touched code that reads BLOCKHASH: its outcome is py-evm's (`sandbox.chain.blockhash`).
    reads_blockhash: bool = False


class RevmChain(Web3Chain):
    """An in-memory chain executed by revm, with the dev powers of the `DevChain` protocol."""

    serialize_reads = True

    def __init__(
        self,
        *,
        num_accounts: int = 10,
        mnemonic: str = DEFAULT_MNEMONIC,
        genesis_timestamp: int = DEFAULT_GENESIS_TIMESTAMP,
        clock: Clock = "fixed",
        decoder: RevertDecoder | None = None,
        data_dir: Path | str | None = None,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        snapshot_seconds: float = DEFAULT_SNAPSHOT_SECONDS,
        snapshot_on_close: bool = True,
        fsync: bool = True,
        now: Callable[[], float] = time.time,
        chain_id: int = DEFAULT_CHAIN_ID,
        **_ignored: Any,
    ) -> None:
        """The options of `EmbeddedChain`, with the same meaning (persistence: a snapshot of the state
        and the blocks every `snapshot_every` blocks, after `snapshot_seconds`, and on `close`)."""
        if snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        self._snapshot_every = snapshot_every
        self._snapshot_seconds = snapshot_seconds
        self._snapshot_on_close = snapshot_on_close
        self._last_snapshot = time.monotonic()
        self._clock: Clock = clock
        self._now = now
        #: The write lock: held while a block is made (group commit), a dev power runs or a snapshot
        #: is written.
        self._lock = threading.RLock()
        #: Held around each use of revm (one transaction executed, one read, one block sealed), never
        #: for a whole block: reads wait for one transaction at most, not for a block being made.
        self._evm_lock = threading.RLock()
        #: The block being made (group commit), its receipts by hash, and our writes signed for it.
        self._pending: Block | None = None
        self._pending_receipts: dict[bytes, TxReceipt] = {}
        self._block_signed: dict[bytes, SignedTx] = {}
        #: Raw transactions sent by others, decoded (sender recovered) before they are queued.
        self._decoded: dict[bytes, SignedTx] = {}
        self._revm_chain_id = chain_id
        self._evm: Any = EVM(  # Any: pyrevm's stubs lag its API (gas_price=, _AccountInfo(balance=))
            env=Env(cfg=CfgEnv(chain_id=chain_id), block=BlockEnv(number=0, timestamp=genesis_timestamp)),
            gas_limit=BLOCK_GAS_LIMIT,
            spec_id=SPEC,
        )
        #: The database's view of every account written so far: (balance, nonce, code hash).
        self._accounts_db: dict[str, tuple[int, int, bytes]] = {}
        #: Length of each contract's code (pyrevm returns analysed code padded with zeros).
        self._code_lengths: dict[str, int] = {}
        #: Every contract code deployed, raw, by code hash; every storage slot written, by (address, slot)
        #: (addresses in lower case): with `_accounts_db`, the whole state, for snapshots.
        self._codes: dict[bytes, bytes] = {}
        self._storage: dict[tuple[str, int], int] = {}
        #: The code hashes of `_codes` whose code reads BLOCKHASH (`uses_blockhash`).
        self._blockhash_codes: set[bytes] = set()
        # The BIP-39 seed once (2,048 rounds of PBKDF2), then each account's BIP-32 key from it: what
        # `Account.from_mnemonic` computes per account, without its seed's cost repeated for every one.
        seed = seed_from_mnemonic(mnemonic, "")
        keys = [bytes(key_from_seed(seed, f"{DEFAULT_HD_PATH}/{i}")) for i in range(num_accounts)]
        self._revm_signers: dict[str, Signer] = {}
        accounts = []
        for key in keys:
            signer = Signer(key)
            self._revm_signers[signer.address] = signer
            accounts.append(ChainAccount(signer.address, key))
            self._write_account(signer.address, (DEFAULT_ACCOUNT_BALANCE, 0, _EMPTY_CODE_HASH, None))
        # The genesis block commits to its allocation (the funded accounts) and chain id, so a data
        # directory opened with other keys, another number of accounts or another chain id is refused.
        allocation = rlp_encode(
            [chain_id, *([bytes.fromhex(a.address[2:]), DEFAULT_ACCOUNT_BALANCE] for a in accounts)]
        )
        genesis = Block(0, genesis_timestamp, INITIAL_BASE_FEE, keccak(b"sandbox-genesis" + allocation), b"\x00" * 32)
        genesis.hash = self._block_hash(genesis)
        self._blocks: list[Block] = [genesis]
        self._by_hash: dict[bytes, TxReceipt] = {}
        self._block_by_hash: dict[bytes, int] = {genesis.hash: 0}
        self._snapshots: dict[int, int] = {}
        self._store: ChainStore | None = None
        self.recovery: Recovery | None = None
        if data_dir is not None:
            self._open_store(Path(data_dir), fsync=fsync)
        super().__init__(Web3(RevmProvider(self)), accounts, decoder)
        self._write_lock = self._lock

    # ------------------------------------------------------------------ identity and accounts

    @property
    def clock(self) -> Clock:
        return self._clock

    def set_clock(self, clock: Clock) -> None:
        if clock not in ("fixed", "wall"):
            raise ValueError(f"clock must be 'fixed' or 'wall', not {clock!r}")
        with self._lock:
            self._clock = clock

    def add_account(self, private_key: bytes) -> ChainAccount:
        account = super().add_account(private_key)
        if account.address not in self._revm_signers:
            self._revm_signers[account.address] = Signer(bytes(private_key))
        return account

    def _read_guard(self) -> AbstractContextManager[Any]:
        """Reads through web3 (`exclusive()`, `block()`, ...) wait for one use of revm, not a block."""
        return self._evm_lock

    # ------------------------------------------------------------------ revm state plumbing

    def _write_account(self, address: str, state: _AccountState) -> None:
        balance, nonce, code_hash, code = state
        if code is not None and (int(code[0].balance), int(code[0].nonce)) == (balance, nonce):
            # New code goes in as revm analysed it (jump table included): a contract inserted as raw
            # bytes is analysed again in every call frame, which doubled the time of our transfer.
            info, length = code
            self._evm.insert_account_info(address, info)
            self._code_lengths[address.lower()] = length
            if code_hash not in self._codes:
                self._keep_code(code_hash, bytes(info.code)[:length])
        else:
            raw = bytes(code[0].code)[: code[1]] if code is not None else None
            if raw is not None:
                self._code_lengths[address.lower()] = len(raw)
                if code_hash not in self._codes:
                    self._keep_code(code_hash, raw)
            self._evm.insert_account_info(
                address, _AccountInfo(balance=balance, nonce=nonce, code_hash=code_hash, code=raw)
            )
        self._accounts_db[address.lower()] = (balance, nonce, code_hash)

    def _keep_code(self, code_hash: bytes, code: bytes) -> None:
        self._codes[code_hash] = code
        if uses_blockhash(code):
            self._blockhash_codes.add(code_hash)

    def _write_slot(self, address: str, slot: int, value: int) -> None:
        # A cold account's slot goes to the database, but pyrevm then loads the account into the
        # journal (warm); the checkpoint around it makes it cold again.
        checkpoint = self._evm.snapshot()
        self._evm.insert_account_storage(address, slot, value)
        self._evm.revert(checkpoint)
        self._storage[(address.lower(), slot)] = value

    def _account(self, address: str) -> tuple[int, int, bytes]:
        return self._accounts_db.get(address.lower(), _NO_ACCOUNT)

    def _set_block_env(self, block: Block) -> None:
        self._evm.set_block_env(
            BlockEnv(
                number=block.number,
                coinbase=_ZERO_ADDRESS,
                timestamp=block.timestamp,
                prevrandao=block.prevrandao,
                basefee=block.base_fee,
                gas_limit=BLOCK_GAS_LIMIT,
            )
        )

    def _run(
        self, sender: str, to: str | None, data: bytes, value: int, gas: int, gas_price: int, *, capture: bool = True
    ) -> _Outcome:
        """Executes one message in a checkpoint and returns its outcome and state changes; the
        checkpoint is reverted (nothing is written)."""
        evm = self._evm
        checkpoint = evm.snapshot()
        try:
            evm.reset_transient_storage()
            created: str | None = None
            error: RuntimeError | None = None
            output = b""
            try:
                if to is None:
                    created = to_checksum_address(evm.deploy(sender, data, value=value, gas=gas, gas_price=0))
                else:
                    output = bytes(evm.message_call(sender, to, data, value=value, gas=gas, gas_price=gas_price))
            except RuntimeError as exc:
                error = exc
            result = evm.result
            if result is None:  # refused before execution (intrinsic gas, funds, ...)
                raise ChainError(f"transaction refused by the EVM: {error}")
            if error is not None:
                found = _REVERT_OUTPUT.search(str(error))
                output = bytes.fromhex(found.group(1)) if found else b""
            gas_used = max(int(result.gas_used), calldata_floor(data))
            accounts: dict[str, _AccountState] = {}
            blockhash_codes = self._blockhash_codes
            if (to is None and uses_blockhash(data)) or (
                blockhash_codes and any(info.code_hash in blockhash_codes for info in evm.journal_state.values())
            ):
                return _Outcome(error is None, gas_used, output, (), created, accounts, [], reads_blockhash=True)
            logs = tuple((checksum(log.address), tuple(log.data[0]), bytes(log.data[1])) for log in result.logs)
            if not capture:
                return _Outcome(error is None, gas_used, output, logs, created, accounts, [])
            known_accounts = self._accounts_db
            new_code: list[tuple[str, Any]] = []
            for address, info in evm.journal_state.items():
                key = address.lower()
                known = known_accounts.get(key, _NO_ACCOUNT)
                state = (info.balance, info.nonce, info.code_hash)  # int, int, bytes (pyrevm's getters)
                code_hash = state[2]
                if code_hash != _EMPTY_CODE_HASH:
                    if code_hash == known[2]:
                        # Code already in revm's database: taken out of the account's journal entry, so
                        # the journal's rendering below does not print it (it was 95% of the text: 85 KB
                        # for our transfer). This changes no state: the account was loaded in this
                        # checkpoint and leaves with it, and revm loads code by its hash from the database
                        # when an account lacks it.
                        evm.insert_account_info(
                            address, _AccountInfo(balance=state[0], nonce=state[1], code_hash=code_hash)
                        )
                    else:
                        new_code.append((key, info))
                if state != known:
                    accounts[key] = (*state, None)
            journal = evm.journal_str
            for key, info in new_code:
                # pyrevm hands back analysed code padded with zeros; its length is in the journal
                found = re.search(re.escape(key) + _CODE_LENGTH, journal)
                code = (info, int(found.group(1)) if found else len(bytes(info.code)))
                accounts[key] = (*accounts[key][:3], code)
            slots = _changed_slots(evm, journal)
            return _Outcome(error is None, gas_used, output, logs, created, accounts, slots)
        finally:
            evm.revert(checkpoint)

    def _apply(self, block: Block, accounts: dict[str, _AccountState], slots: list[tuple[str, int, int, int]]) -> None:
        for address, state in accounts.items():
            balance, nonce, code_hash = self._account(address)
            old_code = None
            block.undo.append((address, None, (balance, nonce, code_hash, old_code)))
            self._write_account(address, state)
        for address, slot, before, after in slots:
            block.undo.append((address, slot, before))
            self._write_slot(address, slot, after)

    # ------------------------------------------------------------------ blocks

    def _head(self) -> Block:
        return self._blocks[-1]

    def _next_timestamp(self) -> int:
        parent = self._head().timestamp
        return parent + 1 if self._clock == "fixed" else max(int(self._now()), parent + 1)

    def _new_block(self, timestamp: int) -> Block:
        parent = self._head()
        return Block(
            number=parent.number + 1,
            timestamp=timestamp,
            base_fee=next_base_fee(parent.base_fee, parent.gas_used, BLOCK_GAS_LIMIT),
            prevrandao=keccak(b"sandbox-prevrandao" + parent.hash),
            parent_hash=parent.hash,
        )

    @staticmethod
    def _block_hash(block: Block) -> bytes:
        return keccak(
            rlp_encode(
                [
                    block.parent_hash,
                    block.number,
                    block.timestamp,
                    block.base_fee,
                    block.gas_used,
                    block.prevrandao,
                    [r.tx.hash for r in block.receipts],
                ]
            )
        )

    def _execute(self, block: Block, tx: SignedTx) -> TxReceipt:
        """Validates `tx` against the state, runs it in `block` and writes its effects."""
        if tx.chain_id is not None and tx.chain_id != self._revm_chain_id:
            raise ChainError(f"invalid chain id: the transaction is signed for chain {tx.chain_id}")
        balance, nonce, code_hash = self._account(tx.sender)
        if tx.nonce != nonce:
            raise ChainError(f"invalid nonce for {tx.sender}: expected {nonce}, got {tx.nonce}")
        if code_hash != _EMPTY_CODE_HASH:
            raise ChainError(f"{tx.sender} is a contract and cannot send transactions (EIP-3607)")
        if tx.max_fee < block.base_fee:
            raise ChainError(f"max fee per gas {tx.max_fee} is below the block's base fee {block.base_fee}")
        if tx.max_priority_fee > tx.max_fee:
            raise ChainError("max priority fee per gas is higher than max fee per gas")
        if tx.gas < calldata_floor(tx.data):
            raise ChainError(
                f"intrinsic gas too low: gas {tx.gas} is below the calldata floor {calldata_floor(tx.data)}"
            )
        if tx.gas > BLOCK_GAS_LIMIT - block.gas_used:
            raise ChainError(f"gas {tx.gas} exceeds the block gas limit")
        if balance < tx.gas * tx.max_fee + tx.value:
            raise ChainError(f"insufficient funds for gas * price + value: {tx.sender} has {balance}")
        price = tx.effective_gas_price(block.base_fee)
        outcome = self._run(tx.sender, tx.to, tx.data, tx.value, tx.gas, price)
        on_pyevm = outcome.reads_blockhash
        if on_pyevm:
            outcome = self._transaction_on_pyevm(block, tx)  # fees and nonce included
        accounts = dict(outcome.accounts)
        if not on_pyevm:  # revm ran it as a message call: charge the fee and bump the nonce here
            sender_key = tx.sender.lower()
            after = accounts.get(sender_key)
            if after is None:
                b, n, h = self._account(sender_key)
                after = (b, n, h, None)
            new_nonce = nonce + 1  # revm bumps the nonce of a creation itself, not of a message call
            fee = outcome.gas_used * price
            accounts[sender_key] = (after[0] - fee, new_nonce, after[2], after[3])
            tip = outcome.gas_used * (price - block.base_fee)
            if tip:
                cb = accounts.get(_ZERO_ADDRESS)
                base = cb if cb is not None else (*self._account(_ZERO_ADDRESS), None)
                accounts[_ZERO_ADDRESS] = (base[0] + tip, base[1], base[2], base[3])
        self._apply(block, accounts, outcome.slots)
        block.gas_used += outcome.gas_used
        index = len(block.receipts)
        tx_hash = "0x" + tx.hash.hex()
        logs = tuple(
            Log(address, topics, data, block.number, tx_hash, i)
            for i, (address, topics, data) in enumerate(outcome.logs)
        )
        contract = outcome.contract_address
        receipt = TxReceipt(
            tx=tx,
            block_number=block.number,
            index=index,
            status=1 if outcome.success else 0,
            gas_used=outcome.gas_used,
            cumulative_gas_used=block.gas_used,
            effective_gas_price=price,
            contract_address=contract if outcome.success else None,
            logs=logs if outcome.success else (),
            output=outcome.output,
        )
        block.receipts.append(receipt)
        return receipt

    # ------------------------------------------------------------------ BLOCKHASH: py-evm executes

    def _previous_hashes(self, number: int) -> list[bytes]:
        """The hashes of the (up to) 256 blocks before block `number`, newest first: what BLOCKHASH
        answers in block `number`."""
        return [self._blocks[n].hash for n in range(number - 1, max(-1, number - 257), -1)]

    def _pyevm_world(
        self,
        block: Block,
        accounts: Mapping[str, tuple[int, int, bytes]],
        storage: Mapping[tuple[str, int], int],
        codes: Mapping[bytes, bytes] | None = None,
    ) -> Any:
        """`accounts` and `storage` (and this chain's codes) as py-evm re-executes in `block`
        (`sandbox.chain.trace.PyEvmWorld`): the block's header fields and this chain's hashes of the 256
        blocks before it."""
        from sandbox.chain.trace import BlockContext, PyEvmWorld  # noqa: PLC0415 (py-evm only when needed)

        context = BlockContext(
            number=block.number,
            timestamp=block.timestamp,
            coinbase=bytes(20),
            base_fee=block.base_fee,
            gas_limit=BLOCK_GAS_LIMIT,
            prevrandao=block.prevrandao,
            parent_hash=block.parent_hash,
        )
        return PyEvmWorld(
            chain_id=self._revm_chain_id,
            accounts=accounts,
            codes=self._codes if codes is None else codes,
            storage=storage,
            block=context,
            previous_hashes=self._previous_hashes(block.number),
        )

    def _from_pyevm(self, outcome: Any) -> _Outcome:
        accounts: dict[str, _AccountState] = {}
        for key, (balance, nonce, code_hash, code) in outcome.accounts.items():
            new = None
            if code is not None and code_hash != _EMPTY_CODE_HASH:
                info = _AccountInfo(balance=balance, nonce=nonce, code_hash=code_hash, code=code)
                new = (info, len(code))
            accounts[key] = (balance, nonce, code_hash, new)
        return _Outcome(
            outcome.success, outcome.gas_used, outcome.output, outcome.logs, outcome.contract_address, accounts,
            outcome.slots,
        )  # fmt: skip

    def _transaction_on_pyevm(self, block: Block, tx: SignedTx) -> _Outcome:
        """`tx` applied by py-evm on the current state (revm's, which holds the block's earlier
        transactions) in `block`, with this chain's block hashes (`sandbox.chain.blockhash`)."""
        from sandbox.chain.blockhash import transaction_on_pyevm  # noqa: PLC0415 (py-evm when needed)

        world = self._pyevm_world(block, self._accounts_db, self._storage)
        return self._from_pyevm(transaction_on_pyevm(world, tx.raw))

    def _call_on_pyevm(
        self, env: Block, number: int, sender: str, to: str | None, data: bytes, value: int, gas: int
    ) -> _Outcome:
        """A call executed by py-evm on the state as of block `number` in block `env`, with this chain's
        block hashes (`sandbox.chain.blockhash`)."""
        from sandbox.chain.blockhash import call_on_pyevm  # noqa: PLC0415 (py-evm when needed)

        if self._is_current(number):
            accounts, storage = self._accounts_db, self._storage
        else:
            accounts, storage = self._world_at(number)
        world = self._pyevm_world(env, accounts, storage)
        return self._from_pyevm(call_on_pyevm(world, sender=sender, to=to, data=data, value=value, gas=gas))

    def _seal(self, block: Block) -> None:
        block.hash = self._block_hash(block)
        self._blocks.append(block)
        self._block_by_hash[block.hash] = block.number
        for receipt in block.receipts:
            self._by_hash[receipt.tx.hash] = receipt
        if self._store is not None:
            self._store.append(
                BlockRecord(
                    number=block.number,
                    timestamp=block.timestamp,
                    mix_hash=block.prevrandao,
                    coinbase=b"\x00" * 20,
                    block_hash=block.hash,
                    transactions=tuple(r.tx.raw for r in block.receipts),
                )
            )
            self._maybe_snapshot()

    def _mine(self, transactions: Sequence[SignedTx], timestamp: int | None = None) -> list[TxReceipt | ChainError]:
        """Mines one block holding `transactions` in order; a transaction the chain refuses (nonce,
        funds, ...) is left out and its error returned in its place. An empty list mines an empty block."""
        with self._evm_lock:
            block = self._new_block(self._next_timestamp() if timestamp is None else timestamp)
            self._set_block_env(block)
            out: list[TxReceipt | ChainError] = []
            for tx in transactions:
                try:
                    out.append(self._execute(block, tx))
                except ChainError as exc:
                    out.append(exc)
            if transactions and not block.receipts:
                return out  # nothing valid: no block
            self._seal(block)
            return out

    # ------------------------------------------------------------------ writes (the Chain seam)
    #
    # Writes go through `GroupCommit` (sandbox/chain/groupcommit.py), as on the embedded chain: writes
    # that arrive while a block is being made share the next block, in arrival order, each with its own
    # receipt or refusal. The primitive: `_begin_block` opens the pending block, `_sign` signs a write
    # of ours with its sender's next nonce (read from the state, which already holds the block's earlier
    # transactions), `_send_pending` executes it into the pending block (a refusal leaves the block as
    # it was), `_seal_block` seals and journals the block, `_receipt_for` hands each its receipt.

    def transact(self, sender: str, to: str | None, data: bytes, *, value: int = 0, gas: int | None = None) -> Receipt:
        sender = checksum(sender)
        if sender not in self._revm_signers:
            raise ChainError(f"the sandbox holds no key for {sender}")
        tx = {"from": sender, "to": checksum(to) if to is not None else None, "data": data, "value": value}
        tx["gas"] = gas or DEFAULT_GAS
        return self._commit(PendingWrite(tx=tx))

    def send_raw_transaction(self, raw: bytes) -> Receipt:
        check_signed_for(self._revm_chain_id, raw)
        self._decoded[raw] = decode_signed(raw)  # the sender is recovered before the queue, off the lock
        try:
            return self._commit(PendingWrite(raw=raw))
        finally:
            self._decoded.pop(raw, None)

    def _sign(self, write: PendingWrite) -> bytes:
        if write.raw is not None:
            return write.raw
        assert write.tx is not None
        tx = write.tx
        signed = self._revm_signers[tx["from"]].sign_1559(
            chain_id=self._revm_chain_id,
            nonce=self._account(tx["from"])[1],
            max_priority_fee=0,
            max_fee=MAX_FEE_PER_GAS,
            gas=tx["gas"],
            to=tx["to"],
            value=tx["value"],
            data=tx["data"],
        )
        self._block_signed[signed.raw] = signed
        return signed.raw

    def _spend_nonce(self, write: PendingWrite) -> None:
        """Nothing to count: a write's nonce is read from the state, which holds the block so far."""

    def _release_nonce(self, write: PendingWrite) -> None:
        """Nothing to count (as `_spend_nonce`)."""

    def _begin_block(self) -> None:
        with self._evm_lock:
            self._pending = self._new_block(self._next_timestamp())
            self._pending_receipts = {}
            self._block_signed = {}

    def _send_pending(self, raw: bytes) -> bytes:
        tx = self._block_signed.get(raw) or self._decoded.get(raw) or decode_signed(raw)
        pending = self._pending
        assert pending is not None
        with self._evm_lock:
            self._set_block_env(pending)  # a read may have run in another block's env meanwhile
            receipt = self._execute(pending, tx)
        self._pending_receipts[tx.hash] = receipt
        return tx.hash

    #: `refusals_send_nothing` executes a write once, in the block being made, and takes it back out if
    #: it reverted (`_send_pending_refusing`), as the embedded chain does.
    refuses_in_block = True

    def _send_pending_refusing(self, raw: bytes) -> bytes:
        """As `_send_pending`; a transaction that runs and reverts is taken back out of the block being
        made (its changes, the sender's nonce and fee, undone from the block's undo log; its gas and
        receipt removed) and the contract's error is raised without a transaction hash."""
        tx = self._block_signed.get(raw) or self._decoded.get(raw) or decode_signed(raw)
        pending = self._pending
        assert pending is not None
        with self._evm_lock:
            self._set_block_env(pending)
            marks = (len(pending.undo), pending.gas_used, len(pending.receipts))
            receipt = self._execute(pending, tx)
            if receipt.status != 1:
                undo, pending.undo = pending.undo[marks[0] :], pending.undo[: marks[0]]
                self._undo_for_good(undo)
                pending.gas_used = marks[1]
                del pending.receipts[marks[2] :]
                raise self._decoder.to_exception(receipt.output)
        self._pending_receipts[tx.hash] = receipt
        return tx.hash

    def _seal_block(self) -> None:
        pending = self._pending
        assert pending is not None
        try:
            with self._evm_lock:
                self._seal(pending)
        finally:
            self._pending = None

    def _receipt_for(self, tx_hash: bytes, tx: dict[str, Any] | None) -> Receipt:
        return self._receipt_or_raise(self._pending_receipts.pop(tx_hash))

    def transact_many(
        self, calls: Sequence[tuple[str, str | None, bytes]], *, gas: int | None = None
    ) -> list[Receipt | Exception]:
        """Sends `calls` ((sender, to, data) each) as consecutive transactions of ONE block, in order;
        each gets its own receipt, or its own `ContractReverted`/`ChainError` in its place."""
        with self._lock, self._evm_lock:
            nonces: dict[str, int] = {}
            txs = []
            for who, to, data in calls:
                sender = to_checksum_address(who)
                signer = self._revm_signers.get(sender)
                if signer is None:
                    raise ChainError(f"the sandbox holds no key for {sender}")
                nonce = nonces.get(sender, self._account(sender)[1])
                nonces[sender] = nonce + 1
                txs.append(
                    signer.sign_1559(
                        chain_id=self._revm_chain_id,
                        nonce=nonce,
                        max_priority_fee=0,
                        max_fee=MAX_FEE_PER_GAS,
                        gas=gas or DEFAULT_GAS,
                        to=to,
                        value=0,
                        data=data,
                    )
                )
            results: list[Receipt | Exception] = []
            for outcome in self._mine(txs):
                try:
                    results.append(self._receipt_or_raise(outcome))
                except (ChainError, ContractReverted) as exc:
                    results.append(exc)
            return results

    def _receipt_or_raise(self, outcome: TxReceipt | ChainError) -> Receipt:
        if isinstance(outcome, ChainError):
            raise outcome
        tx_hash = "0x" + outcome.tx.hash.hex()
        if outcome.status != 1:
            raise self._decoder.to_exception(outcome.output, tx_hash=tx_hash)
        return Receipt(
            transaction_hash=tx_hash,
            block_number=outcome.block_number,
            block_timestamp=self._blocks[outcome.block_number].timestamp,
            gas_used=outcome.gas_used,
            contract_address=outcome.contract_address,
            logs=outcome.logs,
        )

    # ------------------------------------------------------------------ reads

    def _resolve_block(self, block: int | str) -> int:
        head = self._head().number
        if isinstance(block, int):
            if block < 0 or block > head:
                raise ChainError(f"block {block} does not exist (the newest is {head})")
            return block
        if block in ("latest", "pending", "safe", "finalized"):
            return head
        if block == "earliest":
            return 0
        raise ChainError(f"unknown block tag {block!r}")

    def _undone_blocks(self, number: int) -> list[Block]:
        """The blocks whose changes a read as of block `number` undoes, newest first: those mined after
        it, and the block being made (its transactions are in revm's state before it is sealed)."""
        later = self._blocks[number + 1 :]
        if self._pending is not None and self._pending.undo:
            later.append(self._pending)
        later.reverse()
        return later

    def _is_current(self, number: int) -> bool:
        """True when revm's state is the state as of block `number` (the head, no block being made)."""
        return number == self._head().number and (self._pending is None or not self._pending.undo)

    @contextmanager
    def _state_at(self, number: int) -> Iterator[None]:
        """Runs the body on the state as of block `number` (the head's state with later blocks'
        changes undone inside a revm checkpoint, reverted afterwards)."""
        evm = self._evm
        checkpoint = evm.snapshot()
        try:
            for block in self._undone_blocks(number):
                for address, slot, previous in reversed(block.undo):
                    evm.basic(address)  # load it into the journal, so the writes below are journalled
                    if slot is None:
                        balance, nonce, code_hash, _code = previous
                        evm.insert_account_info(
                            address, _AccountInfo(balance=balance, nonce=nonce, code_hash=code_hash)
                        )
                    else:
                        evm.insert_account_storage(address, slot, previous)
            yield
        finally:
            evm.revert(checkpoint)

    def _call_block(self, block: int | str) -> tuple[Block, int]:
        """The block env a call on `block` runs in, and the state it reads."""
        number = self._resolve_block(block)
        if block == "pending" or (self._clock == "wall" and block == "latest"):
            return self._new_block(self._next_timestamp()), number
        return self._blocks[number], number

    def execute_call(
        self, to: str | None, data: bytes, *, sender: str | None = None, value: int = 0, gas: int | None = None,
        block: int | str = "latest",
    ) -> tuple[bool, int, bytes]:  # fmt: skip
        """(success, gas used, return or revert data) of a message executed and thrown away."""
        with self._evm_lock:
            env, number = self._call_block(block)
            self._set_block_env(env)
            caller = to_checksum_address(sender) if sender is not None else self._call_sender
            if self._is_current(number):
                outcome = self._run(caller, to, data, value, gas or DEFAULT_GAS, 0, capture=False)
            else:
                with self._state_at(number):
                    outcome = self._run(caller, to, data, value, gas or DEFAULT_GAS, 0, capture=False)
            if outcome.reads_blockhash:
                outcome = self._call_on_pyevm(env, number, caller, to, data, value, gas or DEFAULT_GAS)
            return outcome.success, outcome.gas_used, outcome.output

    def call(self, to: str, data: bytes, *, sender: str | None = None, block: int | str = "latest") -> bytes:
        success, _gas, output = self.execute_call(to, data, sender=sender, block=block)
        if not success:
            raise self._decoder.to_exception(output)
        return output

    def estimate_gas(self, to: str | None, data: bytes, *, sender: str | None = None, value: int = 0) -> int:
        success, gas_used, output = self.execute_call(to, data, sender=sender, value=value, block="pending")
        if not success:
            raise self._decoder.to_exception(output)
        return gas_used

    def block_number(self) -> int:
        return self._head().number

    def timestamp(self) -> int:
        return self._head().timestamp

    def block_timestamp(self, number: int) -> int:
        return self._blocks[self._resolve_block(number)].timestamp

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] | None = None) -> list[Log]:
        wanted = {checksum(a) for a in addresses} if addresses else None
        out: list[Log] = []
        with self._evm_lock:
            blocks = self._blocks[max(0, from_block) : max(0, to_block + 1)]
        for block in blocks:
            block_hash = "0x" + block.hash.hex()
            for receipt in block.receipts:
                out.extend(
                    replace(log, block_hash=block_hash, transaction_index=receipt.index)
                    for log in receipt.logs
                    if wanted is None or log.address in wanted
                )
        return out

    def balance(self, address: str, block: int | str = "latest") -> int:
        return self._account_at(address, block)[0]

    def nonce(self, address: str, block: int | str = "latest") -> int:
        return self._account_at(address, block)[1]

    def _account_at(self, address: str, block: int | str) -> tuple[int, int, bytes]:
        with self._evm_lock:
            number = self._resolve_block(block)
            if self._is_current(number):
                return self._account(address)
            key = address.lower()
            state = self._account(key)
            for past in self._undone_blocks(number):
                for changed, slot, previous in reversed(past.undo):
                    if changed == key and slot is None:
                        state = previous[:3]
            return state

    def code(self, address: str, block: int | str = "latest") -> bytes:
        with self._evm_lock:
            number = self._resolve_block(block)
            length = self._code_lengths.get(address.lower())
            if self._is_current(number):
                # In a checkpoint: pyrevm loads the account into its journal, which would leave it warm
                # (EIP-2929) for every later transaction, and their gas lower than on a real chain.
                checkpoint = self._evm.snapshot()
                try:
                    code = bytes(self._evm.get_code(to_checksum_address(address)) or b"")
                finally:
                    self._evm.revert(checkpoint)
            else:
                with self._state_at(number):
                    code = bytes(self._evm.get_code(to_checksum_address(address)) or b"")
            return code[:length] if length is not None else code

    def storage(self, address: str, slot: int, block: int | str = "latest") -> int:
        with self._evm_lock:
            number = self._resolve_block(block)
            if self._is_current(number):
                checkpoint = self._evm.snapshot()
                try:
                    return int(self._evm.storage(to_checksum_address(address), slot))
                finally:
                    self._evm.revert(checkpoint)
            with self._state_at(number):
                return int(self._evm.storage(to_checksum_address(address), slot))

    def block(self, number: int) -> ChainBlock:
        """Mined block `number` with its transactions' hashes and senders (web3's `BlockNotFound` if it
        is not mined), straight from the engine's blocks: the same `Block` `Web3Chain.block` builds from
        ``eth_getBlockByNumber(number, True)``, without the JSON-RPC shaping and web3's formatters
        (0.35 ms of the read-model follower's 0.94 ms per block went there)."""
        with self._evm_lock:
            head = self._head().number
            if not isinstance(number, int) or number < 0 or number > head:
                raise BlockNotFound(f"block {number} is not mined yet")
            found = self._blocks[number]
        return ChainBlock(
            number=found.number,
            hash="0x" + found.hash.hex(),
            timestamp=found.timestamp,
            transactions=tuple(BlockTransaction("0x" + r.tx.hash.hex(), r.tx.sender) for r in found.receipts),
        )

    def mined_block(self, block: int | str | bytes) -> Block | None:
        with self._evm_lock:
            if isinstance(block, bytes):
                number = self._block_by_hash.get(block)
                return None if number is None else self._blocks[number]
            try:
                return self._blocks[self._resolve_block(block)]
            except ChainError:
                return None

    def receipt(self, tx_hash: bytes) -> TxReceipt | None:
        with self._evm_lock:
            return self._by_hash.get(tx_hash)

    def trace_transaction(self, tx_hash: str) -> dict[str, Any] | None:
        """geth's ``callTracer`` tree of a mined transaction, or None for a hash no block holds.

        pyrevm 0.3.7 has no call tracer, so the transaction is re-executed by py-evm, the reference EVM
        (`sandbox.chain.trace.trace_on_pyevm`): on a fresh in-memory py-evm state loaded with this
        chain's world as of the end of the transaction's parent block (the head's accounts, code and
        storage with the undo logs of the later blocks rolled back, as reads at past blocks do), under a
        header with the block's own number, time, coinbase, base fee, gas limit, prevrandao and parent
        hash, after the block's transactions before it. The top frame's gas used is the receipt's.
        BLOCKHASH answers with this chain's block hashes, as the transaction ran; where py-evm and this
        engine differ on purpose (the module's docstring: ``BASEFEE``, ``GASPRICE`` in a creation), the
        trace shows py-evm's reading: none of the sandbox's contracts use those opcodes.
        Only the copy of the world is taken under the engine's lock; nothing is written to this chain."""
        from sandbox.chain.trace import trace_on_pyevm  # noqa: PLC0415 (py-evm when tracing only)

        wanted = bytes.fromhex(tx_hash.removeprefix("0x"))
        with self._evm_lock:
            receipt = self._by_hash.get(wanted)
            if receipt is None:
                return None
            block = self._blocks[receipt.block_number]
            accounts, storage = self._world_at(block.number - 1)
            codes = dict(self._codes)
        raws = [r.tx.raw for r in block.receipts[: receipt.index + 1]]
        return trace_on_pyevm(
            self._pyevm_world(block, accounts, storage, codes),
            raw_transactions=raws,
            wanted=wanted,
            gas_used=receipt.gas_used,
        )

    def _world_at(self, number: int) -> tuple[dict[str, tuple[int, int, bytes]], dict[tuple[str, int], int]]:
        """Every account (balance, nonce, code hash) and storage slot as of the end of block `number`:
        copies of the head's, with the undo logs of the later blocks (and of the block being made)
        rolled back, newest change first. Called under the engine's lock."""
        accounts = dict(self._accounts_db)
        storage = dict(self._storage)
        for block in self._undone_blocks(number):
            for address, slot, previous in reversed(block.undo):
                if slot is None:
                    accounts[address] = previous[:3]
                else:
                    storage[(address, slot)] = previous
        return accounts, storage

    # ------------------------------------------------------------------ dev powers

    def snapshot(self) -> Any:
        with self._evm_lock:
            head = self._head()
            return "0x" + head.hash.hex()

    def revert(self, snapshot_id: Any) -> None:
        with self._lock, self._evm_lock:
            target = self._block_by_hash.get(bytes.fromhex(str(snapshot_id)[2:]))
            if target is None:
                raise ChainError(f"unknown snapshot {snapshot_id!r}")
            self._revert_to(target)
            if self._store is not None:
                self._store.append(RevertRecord(target, self._blocks[target].hash))
                self._maybe_snapshot()

    def _revert_to(self, number: int) -> None:
        while self._head().number > number:
            block = self._blocks.pop()
            del self._block_by_hash[block.hash]
            for receipt in block.receipts:
                self._by_hash.pop(receipt.tx.hash, None)
            self._undo_for_good(block.undo)

    def _undo_for_good(self, undo: Sequence[tuple[str, int | None, Any]]) -> None:
        """Writes back, newest change first, the previous values an undo log holds (a dev revert's blocks,
        or a refused transaction's changes to the block being made)."""
        for address, slot, previous in reversed(undo):
            if slot is None:
                balance, nonce, code_hash, _code = previous
                self._write_account(address, (balance, nonce, code_hash, None))
            else:
                self._write_slot(address, slot, previous)

    def time_travel(self, timestamp: int) -> None:
        with self._lock, self._evm_lock:
            now = self._head().timestamp
            if timestamp <= now:
                raise ChainError(f"cannot travel to {timestamp}: the newest block is already at {now}")
            self._mine([], timestamp)

    def mine(self, blocks: int = 1) -> None:
        with self._lock, self._evm_lock:
            for _ in range(blocks):
                self._mine([])

    # ------------------------------------------------------------------ persistence

    @property
    def data_dir(self) -> Path | None:
        return self._store.path if self._store is not None else None

    def _open_store(self, data_dir: Path, *, fsync: bool) -> None:
        identity = {
            "genesis_hash": "0x" + self._blocks[0].hash.hex(),
            "chain_id": self._revm_chain_id,
            "engine": "revm",
        }
        store = ChainStore.open(data_dir, identity=identity, fsync=fsync)
        try:
            recovery = store.recover()
            if recovery.snapshot is not None:
                self._load_snapshot(recovery.snapshot.kv)
                if (self._head().number, self._head().hash) != (
                    recovery.snapshot.head_number,
                    recovery.snapshot.head_hash,
                ):
                    raise PersistenceError(f"the snapshot in {data_dir} does not end at the block its header names")
            for record in recovery.records:
                if isinstance(record, RevertRecord):
                    self._revert_to(record.number)
                    continue
                if record.number != self._head().number + 1:
                    raise PersistenceError(f"the journal holds block {record.number} after {self._head().number}")
                txs = [decode_signed(raw) for raw in record.transactions]
                results = self._mine(txs, record.timestamp)
                if any(isinstance(r, ChainError) for r in results) or self._head().hash != record.block_hash:
                    raise PersistenceError(f"replaying block {record.number} did not give the journalled block")
        except BaseException:
            store.close()
            raise
        self._store = store
        self.recovery = recovery
        if store.records_since_snapshot >= self._snapshot_every:
            self._write_snapshot()

    # Snapshot layout: one key, ``revm``, holding a pickle of plain data only (tuples, lists, ints, bytes,
    # str, None; loaded with the store's data-only unpickler): the accounts, the contract codes by hash,
    # every storage slot, and every block with its receipts and undo log (reads at past blocks and dev
    # reverts need them after a restart as before it).

    def _snapshot_kv(self) -> dict[bytes, bytes]:
        blocks = [
            (
                b.number, b.timestamp, b.base_fee, b.prevrandao, b.parent_hash, b.hash, b.gas_used,
                [
                    (
                        _tx_fields(r.tx), r.status, r.gas_used, r.cumulative_gas_used, r.effective_gas_price,
                        r.contract_address, [(log.address, log.topics, log.data) for log in r.logs], r.output,
                    )
                    for r in b.receipts
                ],
                b.undo,
            )
            for b in self._blocks
        ]  # fmt: skip
        state = {
            "format": 1,
            "accounts": list(self._accounts_db.items()),
            "codes": list(self._codes.items()),
            "storage": list(self._storage.items()),
            "blocks": blocks,
        }
        return {b"revm": pickle.dumps(state, protocol=5)}

    def _load_snapshot(self, kv: dict[bytes, bytes]) -> None:
        """Puts revm and the bookkeeping in the snapshot's state (called once, on a fresh chain)."""
        try:
            state = _DataOnlyUnpickler(io.BytesIO(kv[b"revm"])).load()
            if state.get("format") != 1:
                raise PersistenceError(f"unknown revm snapshot format {state.get('format')!r}")
            genesis = state["blocks"][0]
        except (KeyError, IndexError, AttributeError, pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise PersistenceError(f"the snapshot is not a revm engine's snapshot: {exc!r}") from None
        if genesis[5] != self._blocks[0].hash:
            raise PersistenceError("the snapshot is of another chain")
        blocks = []
        for number, timestamp, base_fee, prevrandao, parent_hash, block_hash, gas_used, receipts, undo in state[
            "blocks"
        ]:
            block = Block(number, timestamp, base_fee, prevrandao, parent_hash, block_hash, gas_used, [], undo)
            for index, (fields, status, used, cumulative, price, contract, logs, output) in enumerate(receipts):
                tx = SignedTx(*fields)  # as decoded when it was mined: no signature to recover again
                tx_hash = "0x" + tx.hash.hex()
                block.receipts.append(
                    TxReceipt(
                        tx, number, index, status, used, cumulative, price, contract,
                        tuple(Log(a, tuple(t), d, number, tx_hash, i) for i, (a, t, d) in enumerate(logs)), output,
                    )
                )  # fmt: skip
            blocks.append(block)
        self._blocks = blocks
        self._block_by_hash = {b.hash: b.number for b in blocks}
        self._by_hash = {r.tx.hash: r for b in blocks for r in b.receipts}
        codes: dict[bytes, bytes] = dict(state["codes"])
        installed: set[bytes] = set()
        for address, (balance, nonce, code_hash) in state["accounts"]:
            if code_hash != _EMPTY_CODE_HASH and code_hash not in installed:
                self._install_code(address, codes[code_hash])
                installed.add(code_hash)
            self._write_account(address, (balance, nonce, code_hash, None))
            if code_hash != _EMPTY_CODE_HASH:
                self._code_lengths[address] = len(codes[code_hash])
        self._codes = codes
        self._blockhash_codes = {code_hash for code_hash, code in codes.items() if uses_blockhash(code)}
        for (address, slot), value in state["storage"]:
            self._write_slot(address, slot, value)

    def _install_code(self, address: str, code: bytes) -> None:
        """Puts `code` in revm's database as revm analyses it (jump table included: raw code would be
        analysed again in every call frame), by deploying it in a checkpoint: revm keeps contract code by
        its hash, so every account with this code hash runs the analysed code."""
        evm = self._evm
        initcode = bytes([0x61]) + len(code).to_bytes(2, "big") + bytes.fromhex("80600c6000396000f3") + code
        checkpoint = evm.snapshot()
        info = None
        try:
            created = evm.deploy(_SCRATCH_DEPLOYER, initcode, gas=BLOCK_GAS_LIMIT, gas_price=0)
            info = next((v for k, v in evm.journal_state.items() if k.lower() == str(created).lower()), None)
        except RuntimeError:
            pass
        finally:
            evm.revert(checkpoint)
        if info is not None and bytes(info.code_hash) == keccak(code):
            evm.insert_account_info(address, info)
        else:  # cannot happen for code a contract creation deployed; raw code still runs
            evm.insert_account_info(address, _AccountInfo(balance=0, nonce=0, code_hash=keccak(code), code=code))

    def _snapshot_due(self, store: ChainStore) -> bool:
        since = store.records_since_snapshot
        return since >= self._snapshot_every or (
            since > 0 and time.monotonic() - self._last_snapshot >= self._snapshot_seconds
        )

    def _write_snapshot(self) -> None:
        store = self._store
        if store is None:
            raise PersistenceError("this chain has no data directory")
        head = self._head()
        store.write_snapshot(self._snapshot_kv(), head_number=head.number, head_hash=head.hash)
        self._last_snapshot = time.monotonic()

    def _maybe_snapshot(self) -> None:
        """After a block is journalled: a snapshot when one is due. A failed snapshot only means a longer
        replay next time (the journal holds the block), so it does not fail the transaction."""
        store = self._store
        if store is not None and self._snapshot_due(store):
            try:
                self._write_snapshot()
            except (OSError, PersistenceError):
                _log.exception("snapshot of %s failed; the journal still holds every block", store.path)

    def checkpoint(self) -> None:
        """Writes a snapshot now, so that the next start replays nothing (persistent chains only)."""
        with self._lock, self._evm_lock:
            self._write_snapshot()

    def close(self) -> None:
        """Releases the data directory (a graceful close snapshots first, unless `snapshot_on_close` is
        false, so the next start replays nothing); a closed persistent chain refuses to mine."""
        if self._store is not None:
            with self._lock, self._evm_lock:
                if self._snapshot_on_close and not self._store.closed and self._store.records_since_snapshot > 0:
                    try:
                        self._write_snapshot()
                    except (OSError, PersistenceError):  # the journal still holds every block
                        _log.exception("snapshot of %s on close failed", self._store.path)
                self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


# ---------------------------------------------------------------------- web3 provider


def _quantity(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 16)


def _hexdata(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = str(value)
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


class _RpcError(Exception):
    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class RevmProvider(BaseProvider):
    """A web3.py provider answering from a `RevmChain` in this process (no sockets, no JSON)."""

    def __init__(self, chain: RevmChain) -> None:
        super().__init__()
        self._chain = chain
        self._request_id = 0

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self._request_id += 1
        handler = getattr(self, "_rpc_" + str(method), None)
        if handler is None:
            return cast(
                RPCResponse,
                {
                    "jsonrpc": "2.0",
                    "id": self._request_id,
                    "error": {"code": -32601, "message": f"the method {method} does not exist/is not available"},
                },
            )
        try:
            result = handler(*(params or []))
        except _RpcError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            return cast(RPCResponse, {"jsonrpc": "2.0", "id": self._request_id, "error": error})
        except ChainError as exc:
            return cast(
                RPCResponse, {"jsonrpc": "2.0", "id": self._request_id, "error": {"code": -32000, "message": str(exc)}}
            )
        return cast(RPCResponse, {"jsonrpc": "2.0", "id": self._request_id, "result": result})

    # --------------------------------------------------------------- helpers

    def _block_id(self, block: Any) -> int | str:
        if block is None:
            return "latest"
        if isinstance(block, int):
            return block
        if isinstance(block, dict):
            if "blockHash" in block:
                found = self._chain.mined_block(_hexdata(block["blockHash"]))
                if found is None:
                    raise _RpcError(-32001, "block not found")
                return found.number
            return self._block_id(block.get("blockNumber"))
        text = str(block)
        return int(text, 16) if text.startswith("0x") else text

    def _block_json(self, block: Block, full: bool) -> dict[str, Any]:
        logs = [log for r in block.receipts for log in r.logs]
        transactions: list[Any] = [self._tx_json(r) if full else "0x" + r.tx.hash.hex() for r in block.receipts]
        return {
            "number": hex(block.number),
            "hash": "0x" + block.hash.hex(),
            "parentHash": "0x" + block.parent_hash.hex(),
            "nonce": "0x0000000000000000",
            "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
            "logsBloom": f"0x{logs_bloom(logs):0512x}",
            "transactionsRoot": "0x" + keccak(b"".join(r.tx.hash for r in block.receipts)).hex(),
            "stateRoot": "0x" + "00" * 32,
            "receiptsRoot": "0x" + "00" * 32,
            "miner": _ZERO_ADDRESS,
            "difficulty": "0x0",
            "totalDifficulty": "0x0",
            "extraData": "0x",
            "size": hex(sum(len(r.tx.raw) for r in block.receipts) + 512),
            "gasLimit": hex(BLOCK_GAS_LIMIT),
            "gasUsed": hex(block.gas_used),
            "timestamp": hex(block.timestamp),
            "transactions": transactions,
            "uncles": [],
            "baseFeePerGas": hex(block.base_fee),
            "mixHash": "0x" + block.prevrandao.hex(),
            "withdrawals": [],
            "withdrawalsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
        }

    def _tx_json(self, receipt: TxReceipt) -> dict[str, Any]:
        block = self._chain._blocks[receipt.block_number]
        out = receipt.tx.to_rpc()
        out.update(
            {
                "blockHash": "0x" + block.hash.hex(),
                "blockNumber": hex(block.number),
                "transactionIndex": hex(receipt.index),
                "gasPrice": hex(receipt.effective_gas_price),
            }
        )
        return out

    def _receipt_json(self, receipt: TxReceipt) -> dict[str, Any]:
        block = self._chain._blocks[receipt.block_number]
        first = sum(len(r.logs) for r in block.receipts[: receipt.index])
        return {
            "transactionHash": "0x" + receipt.tx.hash.hex(),
            "transactionIndex": hex(receipt.index),
            "blockHash": "0x" + block.hash.hex(),
            "blockNumber": hex(block.number),
            "from": receipt.tx.sender,
            "to": receipt.tx.to,
            "cumulativeGasUsed": hex(receipt.cumulative_gas_used),
            "gasUsed": hex(receipt.gas_used),
            "effectiveGasPrice": hex(receipt.effective_gas_price),
            "contractAddress": receipt.contract_address,
            "logs": [self._log_json(log, block, receipt, first + i) for i, log in enumerate(receipt.logs)],
            "logsBloom": f"0x{logs_bloom(receipt.logs):0512x}",
            "status": hex(receipt.status),
            "type": hex(receipt.tx.type),
        }

    @staticmethod
    def _log_json(log: Log, block: Block, receipt: TxReceipt, index: int) -> dict[str, Any]:
        return {
            "address": log.address,
            "topics": ["0x" + t.hex() for t in log.topics],
            "data": "0x" + log.data.hex(),
            "blockNumber": hex(block.number),
            "blockHash": "0x" + block.hash.hex(),
            "transactionHash": "0x" + receipt.tx.hash.hex(),
            "transactionIndex": hex(receipt.index),
            "logIndex": hex(index),
            "removed": False,
        }

    def _tx_params(self, tx: dict[str, Any]) -> tuple[str | None, bytes, str | None, int, int | None]:
        to = tx.get("to")
        data = _hexdata(tx.get("data", tx.get("input")))
        sender = tx.get("from")
        value = _quantity(tx.get("value", 0))
        gas = _quantity(tx["gas"]) if tx.get("gas") is not None else None
        return (to_checksum_address(to) if to else None), data, (str(sender) if sender else None), value, gas

    # --------------------------------------------------------------- methods

    def _rpc_web3_clientVersion(self) -> str:  # noqa: N802
        return "uk-us-dss-sandbox/revm"

    def _rpc_net_version(self) -> str:
        return str(self._chain.chain_id)

    def _rpc_eth_chainId(self) -> str:  # noqa: N802
        return hex(self._chain._revm_chain_id)

    def _rpc_eth_accounts(self) -> list[str]:
        return [a.address for a in self._chain.accounts]

    def _rpc_eth_blockNumber(self) -> str:  # noqa: N802
        return hex(self._chain.block_number())

    def _rpc_eth_gasPrice(self) -> str:  # noqa: N802
        head = self._chain._head()
        return hex(next_base_fee(head.base_fee, head.gas_used, BLOCK_GAS_LIMIT))

    def _rpc_eth_maxPriorityFeePerGas(self) -> str:  # noqa: N802
        return "0x0"

    def _rpc_eth_getBalance(self, address: str, block: Any = "latest") -> str:  # noqa: N802
        return hex(self._chain.balance(address, self._block_id(block)))

    def _rpc_eth_getTransactionCount(self, address: str, block: Any = "latest") -> str:  # noqa: N802
        return hex(self._chain.nonce(address, self._block_id(block)))

    def _rpc_eth_getCode(self, address: str, block: Any = "latest") -> str:  # noqa: N802
        return "0x" + self._chain.code(address, self._block_id(block)).hex()

    def _rpc_eth_getStorageAt(self, address: str, slot: Any, block: Any = "latest") -> str:  # noqa: N802
        return f"0x{self._chain.storage(address, _quantity(slot), self._block_id(block)):064x}"

    def _rpc_eth_getBlockByNumber(self, block: Any, full: bool = False) -> dict[str, Any] | None:  # noqa: N802
        found = self._chain.mined_block(self._block_id(block))
        return None if found is None else self._block_json(found, full)

    def _rpc_eth_getBlockByHash(self, block_hash: Any, full: bool = False) -> dict[str, Any] | None:  # noqa: N802
        found = self._chain.mined_block(_hexdata(block_hash))
        return None if found is None else self._block_json(found, full)

    def _rpc_eth_getTransactionByHash(self, tx_hash: Any) -> dict[str, Any] | None:  # noqa: N802
        receipt = self._chain.receipt(_hexdata(tx_hash))
        return None if receipt is None else self._tx_json(receipt)

    def _rpc_eth_getTransactionReceipt(self, tx_hash: Any) -> dict[str, Any] | None:  # noqa: N802
        receipt = self._chain.receipt(_hexdata(tx_hash))
        return None if receipt is None else self._receipt_json(receipt)

    def _rpc_eth_sendRawTransaction(self, raw: Any) -> str:  # noqa: N802
        data = _hexdata(raw)
        try:
            receipt = self._chain.send_raw_transaction(data)
        except ContractReverted as exc:
            return str(exc.tx_hash)
        return receipt.transaction_hash

    def _rpc_eth_call(self, tx: dict[str, Any], block: Any = "latest", *_overrides: Any) -> str:
        to, data, sender, value, gas = self._tx_params(tx)
        success, _gas, output = self._chain.execute_call(
            to, data, sender=sender, value=value, gas=gas, block=self._block_id(block)
        )
        if not success:
            raise _RpcError(3, "execution reverted", "0x" + output.hex())
        return "0x" + output.hex()

    def _rpc_eth_estimateGas(self, tx: dict[str, Any], block: Any = "latest") -> str:  # noqa: N802
        to, data, sender, value, gas = self._tx_params(tx)
        success, gas_used, output = self._chain.execute_call(
            to, data, sender=sender, value=value, gas=gas, block=self._block_id(block)
        )
        if not success:
            raise _RpcError(3, "execution reverted", "0x" + output.hex())
        return hex(gas_used)

    def _rpc_debug_traceTransaction(self, tx_hash: Any, *_options: Any) -> Any:  # noqa: N802
        """geth's callTracer tree (`RevmChain.trace_transaction`; the gateway's endpoint adds the decoded
        ``revertError``)."""
        trace = self._chain.trace_transaction("0x" + _hexdata(tx_hash).hex())
        if trace is None:
            raise _RpcError(-32000, "transaction not found")
        return trace

    def _rpc_eth_getLogs(self, params: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: N802
        chain = self._chain
        if params.get("blockHash") is not None:
            found = chain.mined_block(_hexdata(params["blockHash"]))
            if found is None:
                raise _RpcError(-32001, "block not found")
            low = high = found.number
        else:
            low = chain._resolve_block(self._block_id(params.get("fromBlock", "latest")))
            high = chain._resolve_block(self._block_id(params.get("toBlock", "latest")))
        address = params.get("address")
        addresses = [address] if isinstance(address, str) else address
        wanted = {checksum(a) for a in addresses} if addresses else None
        topics = params.get("topics") or []
        out = []
        for number in range(low, high + 1):
            block = chain._blocks[number]
            index = 0
            for receipt in block.receipts:
                for log in receipt.logs:
                    if (wanted is None or log.address in wanted) and _topics_match(log.topics, topics):
                        out.append(self._log_json(log, block, receipt, index))
                    index += 1
        return out


def _topics_match(topics: tuple[bytes, ...], wanted: list[Any]) -> bool:
    for position, choice in enumerate(wanted):
        if choice is None:
            continue
        options = choice if isinstance(choice, list) else [choice]
        if position >= len(topics) or topics[position] not in {_hexdata(o) for o in options}:
            return False
    return True
