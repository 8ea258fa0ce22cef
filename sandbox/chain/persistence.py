"""Crash-safe storage for the embedded chain: periodic snapshots plus an fsynced journal of blocks.

py-evm keeps the whole chain in a dict in memory. A data directory makes it survive the process:

- ``journal-<gen>.log`` — append-only. Every block the chain mines (a transaction, a time travel, a
  `mine`) is appended as a record holding its raw signed transactions, its timestamp, its
  ``mix_hash``/coinbase and the hash it got; every dev ``revert`` is appended as a record naming the
  block it returned to. Each record is written with one ``write`` and made durable with
  ``fdatasync`` *before* the caller gets its receipt back, so an acknowledged transaction is on disk.
- ``snapshot-<gen>.snap`` — the whole key-value store of the chain after every record of the journals
  older than ``<gen>``. Written to a temporary file, fsynced, renamed into place and the directory
  fsynced, so a snapshot is either complete or absent. After a snapshot the journal rotates to
  ``journal-<gen>.log`` and older files are deleted, so a restart replays only what happened since
  the newest snapshot, whatever the total history.
- ``chain.json`` — what chain this is (genesis hash, chain id); opening the directory with a chain
  built from other parameters is refused.
- ``LOCK`` — held (``flock``) while a process has the directory open; the kernel releases it when
  the process dies, even by SIGKILL.

Record framing: ``u32 length | u32 crc32(payload) | payload`` (big-endian). A record cut short by a
crash (its length runs past the end of the file, or its checksum fails and nothing follows it) was
never acknowledged — the writer waits for ``fdatasync`` before starting the next — so recovery drops
it and truncates the file there. A bad record with valid data after it is corruption of acknowledged
history and is refused with `PersistenceError`.

This module knows nothing of py-evm or eth-tester: it stores bytes. `sandbox.chain.embedded` turns
blocks into records and replays them.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import pickle
import re
import struct
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.errors import ChainError

#: Blocks between two snapshots of a persistent chain (either engine). A snapshot writes the whole state
#: (py-evm: about 2.6 KB per transaction of history: 27 MB and 0.2 s at 10,500, i.e. under 1 ms per
#: block amortised over 250); re-mining a journalled block on restart costs about 7.5 ms of CPU on
#: py-evm, so this bounds the replay after a crash to about 2 s (bench/RESULTS.md). A graceful close
#: snapshots too, so a restart replays nothing.
DEFAULT_SNAPSHOT_EVERY = 250
#: Seconds after which a block is snapshotted even if fewer than `snapshot_every` came since the last
#: snapshot: a quiet sandbox does not keep a journal to replay for long.
DEFAULT_SNAPSHOT_SECONDS = 600.0

#: Version of the on-disk layout, stored in ``chain.json``.
FORMAT_VERSION = 1
SNAPSHOT_MAGIC = b"SBXSNAP1"
#: magic | generation u64 | head block number u64 | head block hash 32 | payload length u64 | crc32 u32
_SNAPSHOT_HEADER = struct.Struct(">8sQQ32sQI")
_FRAME = struct.Struct(">II")
#: A record larger than this is taken for garbage (a block holds at most a few MB of transactions).
MAX_RECORD_BYTES = 256 * 1024 * 1024

_BLOCK = b"B"
_REVERT = b"R"
_BLOCK_HEAD = struct.Struct(">QQ32s20s32sI")  # number, timestamp, mix_hash, coinbase, hash, tx count
_REVERT_BODY = struct.Struct(">Q32s")  # number, hash
_U32 = struct.Struct(">I")

_JOURNAL_RE = re.compile(r"^journal-(\d{8})\.log$")
_SNAPSHOT_RE = re.compile(r"^snapshot-(\d{8})\.snap$")


class PersistenceError(ChainError):
    """The data directory cannot be used: another process holds it, it holds another chain, or its
    acknowledged history is damaged."""


@dataclass(frozen=True)
class BlockRecord:
    """A mined block, enough to mine it again identically."""

    number: int
    timestamp: int
    mix_hash: bytes
    coinbase: bytes
    block_hash: bytes
    transactions: tuple[bytes, ...]


@dataclass(frozen=True)
class RevertRecord:
    """A dev ``revert``: the canonical head went back to this block."""

    number: int
    block_hash: bytes


Record = BlockRecord | RevertRecord


def encode_record(record: Record) -> bytes:
    if isinstance(record, BlockRecord):
        parts = [
            _BLOCK,
            _BLOCK_HEAD.pack(
                record.number,
                record.timestamp,
                record.mix_hash,
                record.coinbase,
                record.block_hash,
                len(record.transactions),
            ),
        ]
        for raw in record.transactions:
            parts.append(_U32.pack(len(raw)))
            parts.append(raw)
        return b"".join(parts)
    return _REVERT + _REVERT_BODY.pack(record.number, record.block_hash)


def decode_record(payload: bytes) -> Record:
    """Inverse of `encode_record`; raises `PersistenceError` on a malformed payload."""
    kind, body = payload[:1], memoryview(payload)[1:]
    try:
        if kind == _REVERT:
            if len(body) != _REVERT_BODY.size:
                raise ValueError("bad revert record length")
            number, block_hash = _REVERT_BODY.unpack(body)
            return RevertRecord(number, bytes(block_hash))
        if kind == _BLOCK:
            number, timestamp, mix_hash, coinbase, block_hash, count = _BLOCK_HEAD.unpack_from(body)
            offset = _BLOCK_HEAD.size
            transactions = []
            for _ in range(count):
                (size,) = _U32.unpack_from(body, offset)
                offset += _U32.size
                if offset + size > len(body):
                    raise ValueError("transaction runs past the record")
                transactions.append(bytes(body[offset : offset + size]))
                offset += size
            if offset != len(body):
                raise ValueError("trailing bytes after the transactions")
            return BlockRecord(
                number, timestamp, bytes(mix_hash), bytes(coinbase), bytes(block_hash), tuple(transactions)
            )
    except (struct.error, ValueError) as exc:
        raise PersistenceError(f"malformed journal record: {exc}") from None
    raise PersistenceError(f"unknown journal record kind {kind!r}")


def frame(payload: bytes) -> bytes:
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


@dataclass(frozen=True)
class JournalScan:
    records: list[Record]
    #: Offset just past the last good record.
    good_length: int
    #: Bytes after `good_length` that did not form a complete, valid record (a torn tail).
    torn_bytes: int


def scan_journal(data: bytes, *, name: str = "journal", allow_torn_tail: bool = True) -> JournalScan:
    """Parses framed records; a torn last record is reported, anything else bad raises."""
    records: list[Record] = []
    offset = 0
    end = len(data)
    while offset < end:
        problem: str | None = None
        if end - offset < _FRAME.size:
            problem = "truncated record header"
            record_end = end
        else:
            length, crc = _FRAME.unpack_from(data, offset)
            record_end = offset + _FRAME.size + length
            if length == 0 or length > MAX_RECORD_BYTES:
                problem = f"implausible record length {length}"
                # No trustworthy length: the tail counts as torn only if nothing but zero bytes is
                # left (a file extended by a crash but never written); otherwise it is damage.
                record_end = end if not any(data[offset:]) else offset + 1
            elif record_end > end:
                problem = "record runs past the end of the file"
                record_end = end
            elif zlib.crc32(data[offset + _FRAME.size : record_end]) != crc:
                problem = "checksum mismatch"
        if problem is not None:
            if record_end >= end and allow_torn_tail:
                return JournalScan(records, offset, end - offset)
            raise PersistenceError(
                f"{name} is damaged at byte {offset} ({problem}) and acknowledged records follow; refusing to drop them"
            )
        records.append(decode_record(data[offset + _FRAME.size : record_end]))
        offset = record_end
    return JournalScan(records, offset, 0)


@dataclass(frozen=True)
class Snapshot:
    generation: int
    head_number: int
    head_hash: bytes
    kv: dict[bytes, bytes]


@dataclass(frozen=True)
class Recovery:
    """What `ChainStore.recover` found: the state to start from and the records to replay on it."""

    snapshot: Snapshot | None
    records: list[Record]
    #: Bytes of an unacknowledged, torn last record that were dropped (0 after a clean stop).
    torn_bytes: int
    journal_files: int


class _DataOnlyUnpickler(pickle.Unpickler):
    """Snapshots hold a dict of bytes: refuse any class or function reference, so loading a snapshot
    can never run code."""

    def find_class(self, module: str, name: str) -> Any:
        raise PersistenceError(f"snapshot refers to {module}.{name}; only plain data is allowed")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, chunks: list[bytes]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def read_snapshot(path: Path) -> Snapshot:
    """Loads and verifies one snapshot file; raises `PersistenceError` if it is incomplete or damaged."""
    data = path.read_bytes()
    if len(data) < _SNAPSHOT_HEADER.size:
        raise PersistenceError(f"{path.name} is shorter than its header")
    magic, generation, head_number, head_hash, length, crc = _SNAPSHOT_HEADER.unpack_from(data)
    payload = memoryview(data)[_SNAPSHOT_HEADER.size :]
    if magic != SNAPSHOT_MAGIC:
        raise PersistenceError(f"{path.name} is not a sandbox snapshot")
    if len(payload) != length or zlib.crc32(payload) != crc:
        raise PersistenceError(f"{path.name} is incomplete or damaged (length or checksum mismatch)")
    try:
        kv = _DataOnlyUnpickler(io.BytesIO(payload)).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise PersistenceError(f"{path.name} cannot be decoded: {exc}") from None
    if not isinstance(kv, dict):
        raise PersistenceError(f"{path.name} does not hold a key-value store")
    return Snapshot(generation, head_number, bytes(head_hash), kv)


class ChainStore:
    """One data directory, opened by one process at a time.

    Use: `open` → `recover` (state and records to replay) → `append` for every block or revert from
    then on, and `write_snapshot` now and then → `close`. Callers serialise `append` and
    `write_snapshot` (the chain calls them under its write lock); an internal lock guards anyway.
    """

    def __init__(self, path: Path, lock_fd: int, *, fsync: bool = True) -> None:
        self.path = path
        self._fsync = fsync
        self._lock_fd = lock_fd
        self._mutex = threading.Lock()
        self._generation = 0
        self._journal_fd: int | None = None
        self._records_since_snapshot = 0
        self._recovered = False
        self._closed = False
        self._failure: str | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path | str, *, identity: Mapping[str, Any], fsync: bool = True) -> ChainStore:
        """Locks `path` (created if missing) for this process and checks that it holds the chain
        described by `identity` (or nothing yet).

        With ``fsync=False`` a record is handed to the kernel before `append` returns but not flushed
        to the disk: it survives the process being killed, not a power cut or a kernel crash.
        Snapshots are always fsynced."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(path / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise PersistenceError(f"{path} is already open in another process") from None
        store = cls(path, lock_fd, fsync=fsync)
        try:
            store._check_identity(dict(identity))
        except BaseException:
            store.close()
            raise
        return store

    def _check_identity(self, identity: dict[str, Any]) -> None:
        meta = self.path / "chain.json"
        expected = {"format": FORMAT_VERSION, **identity}
        if meta.exists():
            try:
                stored = json.loads(meta.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise PersistenceError(f"{meta} is not valid JSON: {exc}") from None
            if stored != expected:
                raise PersistenceError(
                    f"{self.path} holds a different chain ({stored}) than the one being opened "
                    f"({expected}); open it with the same mnemonic, accounts and genesis, or use another "
                    "directory"
                )
            return
        if self._generations(_JOURNAL_RE) or self._generations(_SNAPSHOT_RE):
            raise PersistenceError(f"{self.path} holds journal or snapshot files but no chain.json")
        _write_atomically(meta, [json.dumps(expected, indent=2, sort_keys=True).encode() + b"\n"])

    def _generations(self, pattern: re.Pattern[str]) -> list[int]:
        found = []
        for entry in os.listdir(self.path):
            match = pattern.match(entry)
            if match:
                found.append(int(match.group(1)))
        return sorted(found)

    def _journal_path(self, generation: int) -> Path:
        return self.path / f"journal-{generation:08d}.log"

    def _snapshot_path(self, generation: int) -> Path:
        return self.path / f"snapshot-{generation:08d}.snap"

    # ------------------------------------------------------------------ recovery

    def recover(self) -> Recovery:
        """Finds the newest complete snapshot and the records journalled after it; drops a torn last
        record (truncating the file) and leaves the store ready for `append`."""
        if self._recovered:
            raise PersistenceError("recover() was already called on this store")
        for entry in os.listdir(self.path):
            if entry.startswith(".") and entry.endswith(".tmp"):
                (self.path / entry).unlink()  # a snapshot or chain.json that never got renamed in
        snapshot: Snapshot | None = None
        for generation in reversed(self._generations(_SNAPSHOT_RE)):
            try:
                snapshot = read_snapshot(self._snapshot_path(generation))
            except PersistenceError:
                continue  # cannot happen with atomic renames, but an older snapshot still serves
            break
        base = snapshot.generation if snapshot is not None else 0
        journals = [g for g in self._generations(_JOURNAL_RE) if g >= base]
        if base > 0 and (not journals or journals[0] != base):
            raise PersistenceError(f"journal-{base:08d}.log, which follows the newest snapshot, is missing")
        if journals != list(range(base, base + len(journals))):
            raise PersistenceError(f"journal generations are not contiguous: {journals}")
        records: list[Record] = []
        torn = 0
        for index, generation in enumerate(journals):
            path = self._journal_path(generation)
            last = index == len(journals) - 1
            scan = scan_journal(path.read_bytes(), name=path.name, allow_torn_tail=last)
            records.extend(scan.records)
            if scan.torn_bytes:
                torn = scan.torn_bytes
                with open(path, "r+b") as handle:
                    handle.truncate(scan.good_length)
                    handle.flush()
                    os.fsync(handle.fileno())
        self._generation = journals[-1] if journals else base
        self._records_since_snapshot = len(records)
        self._open_journal(self._generation)
        self._remove_older_than(base)
        self._recovered = True
        return Recovery(snapshot, records, torn, len(journals))

    # ------------------------------------------------------------------ writing

    def _open_journal(self, generation: int) -> None:
        path = self._journal_path(generation)
        existed = path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if not existed:
            os.fsync(fd)
            _fsync_dir(self.path)
        if self._journal_fd is not None:
            os.close(self._journal_fd)
        self._journal_fd = fd

    @property
    def records_since_snapshot(self) -> int:
        return self._records_since_snapshot

    @property
    def generation(self) -> int:
        return self._generation

    def append(self, record: Record) -> None:
        """Writes one record and returns once it is on disk (in the kernel's hands with ``fsync=False``)."""
        data = frame(encode_record(record))
        with self._mutex:
            fd = self._require_journal()
            try:
                written = os.write(fd, data)
                while written < len(data):  # a regular file takes it in one go; be safe anyway
                    written += os.write(fd, data[written:])
                if self._fsync:
                    os.fdatasync(fd)
            except OSError as exc:
                # The block is in memory but not on disk; later blocks must not be journalled after a
                # gap, so the store refuses every further write (reopen the directory to go on).
                self._failure = f"a journal write failed ({exc})"
                raise PersistenceError(f"{self._failure}; the last block was not acknowledged") from exc
            self._records_since_snapshot += 1

    def write_snapshot(self, kv: Mapping[bytes, bytes], *, head_number: int, head_hash: bytes) -> Path:
        """Writes the chain's key-value store as the next generation's snapshot, rotates the journal
        and deletes what the snapshot supersedes. `kv` must not change meanwhile (hold the write lock).
        """
        with self._mutex:
            self._require_journal()
            generation = self._generation + 1
            payload = pickle.dumps(kv if isinstance(kv, dict) else dict(kv), protocol=5)
            header = _SNAPSHOT_HEADER.pack(
                SNAPSHOT_MAGIC, generation, head_number, head_hash, len(payload), zlib.crc32(payload)
            )
            # The next journal exists (empty) before the snapshot it follows becomes visible, so a crash
            # at any point leaves the old snapshot with the journals after it, or the new pair. The
            # generation moves on even if writing the snapshot fails: records from now on belong after
            # this point, and a later snapshot takes the next generation.
            self._open_journal(generation)
            self._generation = generation
            self._records_since_snapshot = 0
            path = self._snapshot_path(generation)
            _write_atomically(path, [header, payload])
            self._remove_older_than(generation)
            return path

    def _remove_older_than(self, generation: int) -> None:
        removed = False
        for pattern, path_of in ((_JOURNAL_RE, self._journal_path), (_SNAPSHOT_RE, self._snapshot_path)):
            for old in self._generations(pattern):
                if old < generation:
                    path_of(old).unlink()
                    removed = True
        if removed:
            _fsync_dir(self.path)

    def _require_journal(self) -> int:
        if self._failure is not None:
            raise PersistenceError(f"{self._failure}; reopen {self.path} to continue")
        if self._closed:
            raise PersistenceError(f"the data directory {self.path} has been closed")
        if self._journal_fd is None:
            raise PersistenceError("recover() must run before anything is appended")
        return self._journal_fd

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)

    def files(self) -> Iterator[Path]:
        """The journal and snapshot files now in the directory (for inspection and tests)."""
        for pattern, path_of in ((_SNAPSHOT_RE, self._snapshot_path), (_JOURNAL_RE, self._journal_path)):
            for generation in self._generations(pattern):
                yield path_of(generation)
