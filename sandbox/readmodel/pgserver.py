"""A throwaway PostgreSQL server for tests and benchmarks of the read model.

``with TemporaryPostgres() as pg: ReadModel(pg.create_database("x"))`` initialises a cluster in a
temporary directory with the Debian package's `initdb`, starts `postgres` on 127.0.0.1 on a free port
(its socket in the same directory), and on exit stops that server by its own PID and deletes the
directory. Run as root, the server runs as the `postgres` account (PostgreSQL refuses root).
Installing PostgreSQL is not its business: `bindir()` is None when it is missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from sandbox.errors import SandboxError


class PostgresUnavailable(SandboxError):
    """PostgreSQL is not installed, or the temporary server could not start."""


def bindir() -> Path | None:
    """The newest `/usr/lib/postgresql/<version>/bin` with a `postgres` binary, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


#: Ports tried when the one probed free was taken before postgres could bind it.
_BIND_ATTEMPTS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TemporaryPostgres:
    host = "127.0.0.1"
    user = "postgres"

    def __init__(self, *, startup_timeout: float = 60.0) -> None:
        self._timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._base: Path | None = None
        self.port = 0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Creates database `name` (letters, digits, underscores) and returns its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum():
            raise PostgresUnavailable(f"database name {name!r}: use letters, digits and underscores")
        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def start(self) -> None:
        binaries = bindir()
        if binaries is None:
            raise PostgresUnavailable("PostgreSQL is not installed (apt-get install -y postgresql)")
        root = os.geteuid() == 0
        run_as: dict[str, Any] = {"user": "postgres", "group": "postgres"} if root else {}
        self._base = base = Path(tempfile.mkdtemp(prefix="sandbox-pg-"))
        data, sockets = base / "data", base / "sockets"
        sockets.mkdir()
        if root:
            account = pwd.getpwnam("postgres")
            for path in (base, sockets):
                os.chown(path, account.pw_uid, account.pw_gid)
        init = subprocess.run(
            [binaries / "initdb", "-D", data, "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync"],
            capture_output=True,
            text=True,
            check=False,
            **run_as,
        )
        if init.returncode != 0:
            self.stop()
            raise PostgresUnavailable(f"initdb failed: {init.stderr[-2000:]}")
        # A port probed free can be taken before postgres binds it (postgres cannot be handed a bound socket): a
        # postgres that could not bind exits and another free port is tried; one that answers is checked to be
        # this one (its data directory), never another process's server that took the port first.
        for _attempt in range(_BIND_ATTEMPTS):
            self.port = _free_port()
            if self._run(binaries, data, sockets, run_as):
                return
        self.stop()
        raise PostgresUnavailable(f"postgres found no free port in {_BIND_ATTEMPTS} tries")

    def _run(self, binaries: Path, data: Path, sockets: Path, run_as: dict[str, Any]) -> bool:
        """Starts postgres on `self.port` and waits until it answers: True; False when the port was taken."""
        assert self._base is not None
        args: list[str | Path] = [binaries / "postgres", "-D", data, "-h", self.host, "-p", str(self.port)]
        args += ["-k", sockets]
        # A throwaway server: durability is not its job, speed of the tests is.
        args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        # Its log goes to a file: a pipe nobody reads fills up and then blocks the server mid-statement.
        log = self._base / f"postgres-{self.port}.log"
        with log.open("wb") as out:  # the child writes to the descriptor it inherits (as whichever user)
            process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=out, **run_as)
        self._process = process
        deadline = time.monotonic() + self._timeout
        while True:
            if process.poll() is not None:
                self._process = None
                stderr = log.read_text(errors="replace")
                if "could not bind" in stderr or "Address already in use" in stderr:
                    return False
                self.stop()
                raise PostgresUnavailable(f"postgres exited at start: {stderr[-2000:]}")
            try:
                # (bounded: whatever else listens on a taken port may accept and never answer)
                with psycopg.connect(
                    host=self.host, port=self.port, user=self.user, dbname="postgres", connect_timeout=10
                ) as conn:
                    row = conn.execute("SHOW data_directory").fetchone()
                if row is not None and Path(row[0]).resolve() == data.resolve():
                    return True
                # Another server answered on the port: ours cannot have bound it and is exiting (waited above).
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise PostgresUnavailable(f"postgres did not accept connections in {self._timeout} s") from None
            time.sleep(0.1)

    def stop(self) -> None:
        """Stops the server by its PID (fast shutdown) and removes its directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

    def __enter__(self) -> TemporaryPostgres:
        self.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
