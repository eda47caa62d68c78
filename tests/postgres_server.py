"""A throwaway PostgreSQL server for the tests: initdb in a temporary directory, a free loopback
port, no fsync, stopped and deleted at the end. Each test gets a database of its own.

Without PostgreSQL's server binaries the PostgreSQL tests are skipped, loudly; with
HRBOT_POSTGRES_TESTS=required (CI) their absence is an error."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import psycopg

SERVER_USER = "hrbot"


def find_binaries() -> Path | None:
    """HRBOT_POSTGRES_BIN, else the newest /usr/lib/postgresql/*/bin, else initdb on PATH."""
    given = os.environ.get("HRBOT_POSTGRES_BIN")
    candidates = [given] if given else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if not given and (initdb := shutil.which("initdb")):
        candidates.append(str(Path(initdb).parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="hrbot-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._count = 0
        self._lock = threading.Lock()
        # PostgreSQL refuses to run as root: as root, the server runs as the postgres user.
        self._user = None
        if os.geteuid() == 0:
            self._user = "postgres"
            shutil.chown(self.folder, user=self._user)

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.binaries / args[0]), *args[1:]],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> ThrowawayPostgres:
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", SERVER_USER, "-E", "UTF8", "-N"
        )
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """A new, empty database; its URL."""
        with self._lock:
            self._count += 1
            name = f"t{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
