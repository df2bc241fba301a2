"""Private real servers for fault tests: each test module starts its own redis-server,
PostgreSQL cluster, MariaDB server or nx-27017 and may hang (SIGSTOP), stop and restart it,
never touching the shared servers other tests use."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.stores.conftest import server_url

PASSWORD = "s3cr3t-pw"
PGBIN = Path(os.environ.get("ASYNCZ_PGBIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port}")


def require(path: str | Path | None, what: str) -> str:
    """``path`` if it is an executable; otherwise skip (fail under CI, like the server tests)."""
    if path is not None and os.access(path, os.X_OK):
        return str(path)
    reason = f"{what} is not installed (scripts/servers.sh installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


class Server:
    """A private server process that can be hung (SIGSTOP), resumed, stopped and started."""

    url = ""

    def __init__(self) -> None:
        self.paused: list[int] = []
        self.running = False

    def pids(self) -> list[int]:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def pause(self) -> None:
        self.paused = self.pids()
        for pid in self.paused:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        paused, self.paused = self.paused, []
        for pid in paused:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def heal(self) -> None:
        """Running and answering again, whatever the test did to it."""
        self.resume()
        if not self.running:
            self.start()


class OwnRedis(Server):
    """redis-server with a password and an append-only file, so its data survive a restart."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.binary = require(shutil.which("redis-server"), "redis-server")
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def pids(self) -> list[int]:
        return [] if self.process is None else [self.process.pid]

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        command += ["--requirepass", PASSWORD, "--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        self.running = True

    def stop(self) -> None:
        self.resume()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        self.running = False


class OwnPostgres(Server):
    """A throwaway PostgreSQL cluster with trust authentication (so a URL may carry a
    password the server never asks for); run as the postgres user when we are root."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.initdb = require(PGBIN / "initdb", "PostgreSQL (initdb)")
        self.pg_ctl = require(PGBIN / "pg_ctl", "PostgreSQL (pg_ctl)")
        self.directory = directory
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{self.port}/postgres"
        self.as_user: list[str] = []
        if os.getuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.run(self.initdb, "-D", str(directory / "pg"), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=60)

    def pids(self) -> list[int]:
        postmaster = int((self.directory / "pg" / "postmaster.pid").read_text().split()[0])
        return [postmaster, *children_of(postmaster)]

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.directory / "postgres.log")
        self.run(self.pg_ctl, "-D", str(self.directory / "pg"), "-l", log, "-o", options, "-w", "start")
        self.running = True

    def stop(self) -> None:
        self.resume()
        self.run(self.pg_ctl, "-D", str(self.directory / "pg"), "-m", "immediate", "-w", "stop")
        self.running = False


class OwnMariaDB(Server):
    """A throwaway MariaDB server, root without a password, its data kept across a restart;
    it runs as the current user (mariadbd refuses root unless told)."""

    DATABASE = "faults"

    def __init__(self, directory: Path) -> None:
        super().__init__()
        install_db = require(shutil.which("mariadb-install-db"), "MariaDB (mariadb-install-db)")
        self.binary = require(shutil.which("mariadbd") or "/usr/sbin/mariadbd", "MariaDB (mariadbd)")
        self.directory = directory
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.port = free_port()
        self.url = f"mysql+pymysql://root@127.0.0.1:{self.port}/{self.DATABASE}"
        self.process: subprocess.Popen[bytes] | None = None
        command = [install_db, "--no-defaults", f"--datadir={directory / 'my'}", f"--user={self.user}"]
        command += ["--auth-root-authentication-method=normal", "--skip-test-db"]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def pids(self) -> list[int]:
        return [] if self.process is None else [self.process.pid]

    def start(self) -> None:
        directory = self.directory
        command = [self.binary, "--no-defaults", f"--datadir={directory / 'my'}", f"--port={self.port}"]
        command += ["--bind-address=127.0.0.1", f"--socket={directory / 'my.sock'}", f"--user={self.user}"]
        command += [f"--pid-file={directory / 'my.pid'}", f"--log-error={directory / 'my.log'}", "--skip-log-bin"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 30)
        self._create_database()
        self.running = True

    def _create_database(self) -> None:
        import pymysql

        deadline = time.monotonic() + 30
        while True:
            try:
                connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root", connect_timeout=2)
                break
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE IF NOT EXISTS {self.DATABASE}")
        finally:
            connection.close()

    def stop(self) -> None:
        self.resume()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            self.process = None
        self.running = False


class OwnMongo(Server):
    """nx-27017 (the MongoDB-wire server the suite uses), in memory."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.binary = require(shutil.which("nx-27017") or Path(sys.executable).with_name("nx-27017"), "nx-27017")
        self.directory = directory
        self.port = free_port()
        self.url = f"mongodb://127.0.0.1:{self.port}/faults?directConnection=true"
        self.process: subprocess.Popen[bytes] | None = None

    def pids(self) -> list[int]:
        return [] if self.process is None else [self.process.pid]

    def start(self) -> None:
        command = [self.binary, "--db", "memory", "-p", str(self.port)]
        command += ["--pid-file", str(self.directory / "nx.pid"), "--log-file", str(self.directory / "nx.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        self.running = True

    def stop(self) -> None:
        self.resume()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        self.running = False


def private_server(make: Callable[[Path], Server]) -> Iterator[Server]:
    """One server for the module, in its own temp directory (readable by the postgres user)."""
    directory = Path(tempfile.mkdtemp(prefix="asyncz-faults-"))
    directory.chmod(0o755)
    server: Server | None = None
    try:
        server = make(directory)
        server.start()
        yield server
    finally:
        try:
            if server is not None and server.running:
                server.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Server]:
    server_url("redis")  # without the suite's servers these tests skip alike
    yield from private_server(OwnRedis)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Server]:
    server_url("postgres")
    yield from private_server(OwnPostgres)


@pytest.fixture(scope="module")
def mariadb_server() -> Iterator[Server]:
    server_url("mariadb")
    yield from private_server(OwnMariaDB)


@pytest.fixture(scope="module")
def mongodb_server() -> Iterator[Server]:
    server_url("mongodb")
    yield from private_server(OwnMongo)
