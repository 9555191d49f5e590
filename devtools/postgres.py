"""A private, throwaway PostgreSQL server on loopback (for the tests and ``make bench``).

:func:`start_server` runs ``initdb`` of a new cluster in a private temporary directory and starts
a server listening only on 127.0.0.1 on a free port (and on a unix socket in that directory),
tuned for throwaway use (``fsync``, ``synchronous_commit`` and ``full_page_writes`` off; 200
connections; the caller may override any setting), with password (SCRAM) authentication for the
superuser ``postgres`` and the role ``koufu``. The caller stops it (:meth:`PostgresServer.stop`)
and deletes :attr:`PostgresServer.root`.

PostgreSQL refuses to run as root. When we run as root, the server and ``initdb`` run as the
``postgres`` system user (``subprocess.Popen(user=...)``, the same as ``runuser -u postgres``),
in a directory that user owns; otherwise they run as the current user. Several servers may run
side by side: each has its own directory and port (a port taken meanwhile by someone else is
retried with another one). A directory left behind by a process that was killed is cleaned up,
with its server, by the next one to start a server.

Every failure to provide a server is :class:`PostgresUnavailable` with words that say what to do
(the pytest fixtures turn it into a test failure: PostgreSQL tests are never skipped).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, NoReturn

import psycopg
from sqlalchemy.engine import URL

from center.private_files import write_private

INSTALL_HINT = "install the Debian package 'postgresql' (make setup does: see the Makefile)"
BINARY_DIRS = "/usr/lib/postgresql/*/bin"  # Debian's layout; KOUFU_PG_BINDIR overrides it
DIR_PREFIX = "koufu-pg-"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
TEST_ROLE = "koufu"
MAX_CONNECTIONS = 200  # a 50-client benchmark, each with a small pool, fits
SERVER_SETTINGS = {
    "listen_addresses": HOST,
    "max_connections": str(MAX_CONNECTIONS),
    "fsync": "off",  # a throwaway cluster: durability buys nothing here
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "64MB",
    "logging_collector": "off",
    "log_min_messages": "warning",
}
INITDB_TIMEOUT = 60.0
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
PORT_ATTEMPTS = 5


class PostgresUnavailable(RuntimeError):
    """No private PostgreSQL server can be provided (missing binaries, a failed start, ...)."""


@dataclass
class PostgresServer:
    """A running private PostgreSQL server."""

    root: Path  # private directory: data/, server.log, and the unix socket
    port: int
    password: str  # of TEST_ROLE
    superuser_password: str
    process: subprocess.Popen[bytes]
    version: str = ""
    initdb_seconds: float = 0.0
    start_seconds: float = 0.0  # from launching the postmaster to the first accepted login
    host: str = HOST
    user: str = TEST_ROLE
    _admin: psycopg.Connection[tuple[object, ...]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    @property
    def socket_dir(self) -> Path:
        return self.root

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.log_path, lines)

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` for the test role, over TCP with its password."""
        return URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """The superuser connection (autocommit), over the unix socket."""
        if self._admin is None or self._admin.closed:
            self._admin = _connect_superuser(self.root, self.port, self.superuser_password)
        return self._admin

    def create_database(self, hint: str = "db") -> str:
        """Create an empty database owned by the test role; return its (unique) name."""
        slug = re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_")
        with self._lock:
            name = f"t{next(self._names):04d}_{slug}"[:63]
            self.admin().execute(f'CREATE DATABASE "{name}" OWNER {TEST_ROLE}')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection left open."""
        with self._lock:
            self.admin().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def databases(self) -> set[str]:
        """Names of the databases other than the templates and ``postgres``."""
        with self._lock:
            rows = (
                self.admin()
                .execute("SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'")
                .fetchall()
            )
        return {str(row[0]) for row in rows}

    @contextlib.contextmanager
    def fresh_database(self, hint: str = "db") -> Iterator[str]:
        """A new empty database for the duration of the block, as a SQLAlchemy URL."""
        name = self.create_database(hint)
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL; wait for the exit."""
        if self._admin is not None:
            with contextlib.suppress(psycopg.Error):
                self._admin.close()
        _stop_postmaster(self.process)


# -- binaries and the user the server runs as -------------------------------------------------


def find_binaries(pattern: str | None = None) -> Path:
    """The newest PostgreSQL ``bin`` directory holding ``initdb`` and ``postgres``."""
    pattern = pattern or os.environ.get("KOUFU_PG_BINDIR") or BINARY_DIRS
    candidates = [
        path
        for path in Path("/").glob(pattern.lstrip("/"))
        if (path / "initdb").is_file() and (path / "postgres").is_file()
    ]
    if not candidates:
        raise PostgresUnavailable(
            f"PostgreSQL server binaries (initdb, postgres) not found in {pattern}: {INSTALL_HINT}"
        )
    return max(candidates, key=lambda path: _version_key(path.parent.name))


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _run_as() -> pwd.struct_passwd | None:
    """The account for the server: ``postgres`` when we are root, else ``None`` (ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and there is no '{SUPERUSER}' system user: {INSTALL_HINT}"
        ) from None


class _Identity(NamedTuple):
    """``Popen`` arguments that drop root for the server's account (no supplementary groups)."""

    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None

    @classmethod
    def of(cls, account: pwd.struct_passwd | None) -> _Identity:
        return cls() if account is None else cls(account.pw_uid, account.pw_gid, [])


def _check_reachable(root: Path, account: pwd.struct_passwd | None) -> None:
    """Fail early when ``account`` could not even reach its directory (a private ``TMPDIR``)."""
    if account is None:
        return
    for parent in root.parents:
        if not parent.stat().st_mode & 0o001:
            raise PostgresUnavailable(
                f"{parent} is not searchable by '{account.pw_name}': point TMPDIR elsewhere"
            )


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


# -- leftovers of killed processes ------------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """Kernel start time of ``pid`` (tells a live owner from a reused pid), ``None`` if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited (its parent has yet to reap it)


def _owner_stamp() -> str:
    return f"{os.getpid()} {_process_start(os.getpid())}"


def _stale(root: Path) -> bool:
    try:
        pid_text, start = (root / "owner").read_text().split()
    except (OSError, ValueError):
        return time.time() - root.stat().st_mtime > 3600  # half-created, long ago
    return _process_start(int(pid_text)) != start


def clean_leftovers() -> None:
    """Stop the servers of killed owners (checked by pid and command line) and delete them."""
    for root in Path(tempfile.gettempdir()).glob(DIR_PREFIX + "*"):
        with contextlib.suppress(OSError, ValueError):
            if not root.is_dir() or not _stale(root):
                continue
            pid = int((root / "data" / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if str(root / "data").encode() in cmdline:
                os.kill(pid, signal.SIGQUIT)
                deadline = time.monotonic() + STOP_TIMEOUT
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


# -- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _connect_superuser(root: Path, port: int, password: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=str(root),
        port=port,
        user=SUPERUSER,
        password=password,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


def _initdb(bindir: Path, root: Path, account: pwd.struct_passwd | None, password: str) -> None:
    pwfile = root / "pwfile"
    write_private(pwfile, (password + "\n").encode())
    if account is not None:
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    command = [
        str(bindir / "initdb"),
        "--pgdata",
        str(root / "data"),
        "--username",
        SUPERUSER,
        "--pwfile",
        str(pwfile),
        "--auth",
        "scram-sha-256",
        "--encoding",
        "UTF8",
        "--no-locale",
        "--no-sync",
    ]
    who = _Identity.of(account)
    try:
        result = subprocess.run(
            command,
            cwd=root,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=INITDB_TIMEOUT,
            check=False,
            user=who.user,
            group=who.group,
            extra_groups=who.extra_groups,
        )
    except subprocess.TimeoutExpired:
        raise PostgresUnavailable(f"initdb did not finish within {INITDB_TIMEOUT:.0f} s") from None
    finally:
        pwfile.unlink()
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace")
        raise PostgresUnavailable(f"initdb failed ({result.returncode}):\n{output}")


def _launch(
    bindir: Path,
    root: Path,
    account: pwd.struct_passwd | None,
    port: int,
    settings: Mapping[str, str],
) -> subprocess.Popen[bytes]:
    settings = {**settings, "port": str(port), "unix_socket_directories": str(root)}
    command = [str(bindir / "postgres"), "-D", str(root / "data")]
    for name, value in settings.items():
        command += ["-c", f"{name}={value}"]
    who = _Identity.of(account)
    with (root / "server.log").open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=root,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=who.user,
            group=who.group,
            extra_groups=who.extra_groups,
        )


def _stop_postmaster(process: subprocess.Popen[bytes]) -> None:
    for sig, patience in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, 5.0)):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(patience)
            return
    process.kill()
    process.wait()


def _wait_until_ready(
    process: subprocess.Popen[bytes], root: Path, port: int, password: str, log_offset: int
) -> psycopg.Connection[tuple[object, ...]] | None:
    """The first superuser login once the server accepts it; ``None`` if the port was taken."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with (root / "server.log").open("rb") as log:
                log.seek(log_offset)
                if b"could not bind" in log.read():  # this attempt's port was taken meanwhile
                    return None
            _fail_start(root, f"the server exited with status {process.returncode}")
        try:
            return _connect_superuser(root, port, password)
        except psycopg.OperationalError as error:
            last_error = error
            time.sleep(0.02)
    _stop_postmaster(process)
    _fail_start(root, f"no login within {STARTUP_TIMEOUT:.0f} s (last error: {last_error})")


def _fail_start(root: Path, why: str) -> NoReturn:
    raise PostgresUnavailable(
        f"PostgreSQL test server did not start: {why}\nserver log:\n{_tail(root / 'server.log', 30)}"
    )


def start_server(
    bindir: Path | None = None,
    *,
    settings: Mapping[str, str] | None = None,
    port_source: Callable[[], int] = free_port,
) -> PostgresServer:
    """initdb a private cluster, start it, create the test role. The caller must ``stop`` it.

    ``settings`` (default :data:`SERVER_SETTINGS`) are the server's ``-c`` options. On failure
    nothing is left behind: the server is stopped and its directory deleted.
    """
    bindir = bindir or find_binaries()
    settings = SERVER_SETTINGS if settings is None else settings
    account = _run_as()
    clean_leftovers()
    root = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
    process: subprocess.Popen[bytes] | None = None
    try:
        (root / "owner").write_text(_owner_stamp())
        if account is not None:
            _check_reachable(root, account)
            os.chown(root, account.pw_uid, account.pw_gid)
        superuser_password, password = secrets.token_hex(16), secrets.token_hex(16)
        began = time.monotonic()
        _initdb(bindir, root, account, superuser_password)
        initialised = time.monotonic()
        admin = None
        for _attempt in range(PORT_ATTEMPTS):
            port = port_source()
            log_offset = (root / "server.log").stat().st_size if (root / "server.log").exists() else 0
            process = _launch(bindir, root, account, port, settings)
            admin = _wait_until_ready(process, root, port, superuser_password, log_offset)
            if admin is not None:
                break
        if admin is None or process is None:
            _fail_start(root, f"every free port was taken before the server bound it ({PORT_ATTEMPTS} tries)")
        ready = time.monotonic()
        admin.execute(f"CREATE ROLE {TEST_ROLE} LOGIN PASSWORD '{password}'")
        row = admin.execute("SHOW server_version").fetchone()
    except BaseException:
        if process is not None:
            _stop_postmaster(process)
        shutil.rmtree(root, ignore_errors=True)
        raise
    return PostgresServer(
        root=root,
        port=port,
        password=password,
        superuser_password=superuser_password,
        process=process,
        version=str(row[0]) if row else "?",
        initdb_seconds=initialised - began,
        start_seconds=ready - initialised,
        _admin=admin,
    )


@contextlib.contextmanager
def running_server(*, settings: Mapping[str, str] | None = None) -> Iterator[PostgresServer]:
    """A private server for the duration of the block; stopped and deleted afterwards."""
    server = start_server(settings=settings)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
