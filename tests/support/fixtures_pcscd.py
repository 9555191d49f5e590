"""pytest fixtures: a running ``pcscd`` with vsmartcard's vpcd reader, and emulated cards in it.

``pcscd`` (session): reuses a pcscd that already lists a "Virtual PCD" reader, otherwise starts
``pcscd --foreground`` with the system's ``/etc/reader.conf.d`` and stops it at the end. A missing
pcscd or vpcd driver FAILS the test (``make`` installs them): these tests are never skipped.

``vpcd`` (function): the session's :class:`VpcdSlot`, empty at the start of the test. Its
:meth:`~VpcdSlot.insert` and :meth:`~VpcdSlot.remove` put a card in the reader and return once
pcscd reports the change.

``vpcd_slot`` (session): the same slot as the previous test left it. pcscd polls the reader every
400 ms, so each insertion or removal costs up to that long; inserting the very card object that is
already in is free. A test using it states what it needs first: ``insert(card)`` or ``remove()``.

Several pytest sessions may share the machine (engineers run tests side by side). File locks in
``$TMPDIR/koufu-pcscd`` keep them apart: each session owns one of vpcd's two slots (ports
35963/35964), and the last session to finish stops a pcscd that a test session started (never
one started otherwise).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

import pytest
from smartcard import scard

from hardware.cardsim.vpcd_link import ServedCard, VpcdLink

READER_PREFIX = "Virtual PCD"
VPCD_CONF = Path("/etc/reader.conf.d/vpcd")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
LOCK_DIR = Path(tempfile.gettempdir()) / "koufu-pcscd"
PID_FILE = LOCK_DIR / "pcscd.pid"  # a pcscd started by a test session, stopped by the last one
INSTALL_HINT = "install the Debian packages pcscd and vsmartcard-vpcd (see the Makefile)"
STARTUP_TIMEOUT = 10.0
LOCK_TIMEOUT = 60.0
PRESENCE_TIMEOUT = 5.0
FIRST_INSERT_TIMEOUT = 1.5  # pcscd polls every 0.4 s; a card not seen by then is retried once


@dataclass
class Pcscd:
    """The pcscd the tests talk to."""

    readers: list[str]  # the vpcd readers, slot 0 first
    base_port: int  # TCP port of slot 0; slot i listens on base_port + i
    process: subprocess.Popen[bytes] | None = None  # set when this session started pcscd
    log_path: Path | None = None

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(pcscd was not started by this session; no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# -- PC/SC queries, independent of hardware.card.pcsc (the code under test) ------------------


def _pcsc_readers() -> list[str] | None:
    """Reader names, or ``None`` when no pcscd answers."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        return list(readers) if hresult == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(context)


def _vpcd_readers() -> list[str]:
    return sorted(name for name in _pcsc_readers() or [] if name.startswith(READER_PREFIX))


def wait_for_presence(reader: str, present: bool, timeout: float = PRESENCE_TIMEOUT) -> bool:
    """Block on ``SCardGetStatusChange`` until the reader's card presence equals ``present``."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
    try:
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while True:
            millis = max(0, round((deadline - time.monotonic()) * 1000))
            hresult, states = scard.SCardGetStatusChange(context, millis, [(reader, state)])
            if hresult == scard.SCARD_E_TIMEOUT:
                return False
            assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if bool(state & scard.SCARD_STATE_PRESENT) == present:
                return True
    finally:
        scard.SCardReleaseContext(context)


# -- locks between pytest sessions ------------------------------------------------------------


def _lock(name: str, operation: int, timeout: float) -> IO[bytes] | None:
    """``flock`` ``LOCK_DIR/name``; the open file holds the lock. ``None`` after ``timeout``."""
    LOCK_DIR.mkdir(mode=0o1777, exist_ok=True)
    handle = (LOCK_DIR / name).open("ab")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, operation | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                return None
            time.sleep(0.05)


def _must_lock(name: str, operation: int) -> IO[bytes]:
    handle = _lock(name, operation, LOCK_TIMEOUT)
    if handle is None:
        pytest.fail(f"another test session held {LOCK_DIR / name} for {LOCK_TIMEOUT:.0f} s")
    return handle


@contextlib.contextmanager
def _holding(name: str) -> Iterator[None]:
    handle = _must_lock(name, fcntl.LOCK_EX)
    try:
        yield
    finally:
        handle.close()


# -- pcscd ------------------------------------------------------------------------------------


def _pcscd_binary() -> str:
    binary = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if binary is None:
        pytest.fail(f"pcscd is not installed: {INSTALL_HINT}")
    if not VPCD_DRIVER.exists() or not VPCD_CONF.exists():
        pytest.fail(f"vpcd driver or {VPCD_CONF} missing: {INSTALL_HINT}")
    return binary


def _vpcd_base_port() -> int:
    """The port of vpcd's first slot, from ``DEVICENAME /dev/null:0x8C7B`` in the reader config."""
    match = re.search(r"^\s*DEVICENAME\s+\S*:(\S+)", VPCD_CONF.read_text(), re.MULTILINE)
    return int(match.group(1), 0) if match else 0x8C7B


def _start_pcscd(binary: str, log_path: Path) -> subprocess.Popen[bytes] | None:
    """Start pcscd and wait for the vpcd reader; ``None`` if another pcscd won the race."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "--foreground", "--debug"],  # no --auto-exit: it would quit while idle
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # may outlive this session if another one still uses it
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _vpcd_readers():
        if process.poll() is not None and _vpcd_readers():
            return None  # "another pcscd seems to be running": started outside the tests meanwhile
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
            pytest.fail(f"pcscd did not come up with a {READER_PREFIX!r} reader:\n{tail}")
        time.sleep(0.05)
    return process


def _stop_pcscd(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stop_test_pcscd(own: subprocess.Popen[bytes] | None) -> None:
    """Stop the pcscd a test session started (ours or one whose session has ended)."""
    try:
        pid = int(PID_FILE.read_text())
    except (OSError, ValueError):
        return  # not started by a test session: never ours to stop
    PID_FILE.unlink()
    if own is not None and own.pid == pid:
        _stop_pcscd(own)
        return
    comm = Path(f"/proc/{pid}/comm")
    with contextlib.suppress(OSError):
        if comm.read_text().strip() == "pcscd":
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while comm.exists() and time.monotonic() < deadline:  # a session may start the next one now
        time.sleep(0.05)


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """A pcscd with the vpcd reader, running for the whole test session."""
    binary = _pcscd_binary()
    with _holding("start.lock"):
        # Shared while this session runs; never waits, as LOCK_EX is only taken under start.lock.
        users_lock = _must_lock("users.lock", fcntl.LOCK_SH)
        try:
            daemon = Pcscd(readers=_vpcd_readers(), base_port=_vpcd_base_port())
            if not daemon.readers:
                if _pcsc_readers() is not None:
                    pytest.fail(f"a pcscd is running without a {READER_PREFIX!r} reader: stop it")
                daemon.log_path = tmp_path_factory.mktemp("pcscd") / "pcscd.log"
                daemon.process = _start_pcscd(binary, daemon.log_path)
                if daemon.process is not None:
                    PID_FILE.write_text(str(daemon.process.pid))
                daemon.readers = _vpcd_readers()
        except BaseException:
            users_lock.close()
            raise
    yield daemon
    with _holding("start.lock"):
        users_lock.close()
        alone = _lock("users.lock", fcntl.LOCK_EX, 0)
        if alone is not None:  # the last session out stops a pcscd that tests started
            _stop_test_pcscd(daemon.process)
            alone.close()


# -- cards in the vpcd reader -----------------------------------------------------------------


class VpcdSlot:
    """One vpcd slot of the session's pcscd: insert and remove emulated cards."""

    def __init__(self, reader: str, port: int, daemon: Pcscd, host: str = "127.0.0.1") -> None:
        self.reader = reader
        self.port = port
        self.host = host
        self.daemon = daemon
        self.link: VpcdLink | None = None

    def _fail(self, message: str) -> NoReturn:
        pytest.fail(f"{message}\npcscd log:\n{self.daemon.log_tail()}")

    def __repr__(self) -> str:
        return f"VpcdSlot({self.reader!r}, port={self.port})"

    def insert(self, card: ServedCard) -> VpcdLink:
        """Attach ``card`` and wait until pcscd reports a card in the reader.

        Any other card is removed first; ``card`` itself, when already in, stays as it is.
        """
        if self.link is not None and self.link.card is card and self.link.attached:
            return self.link
        self.remove()
        self.require_empty()
        for patience in (FIRST_INSERT_TIMEOUT, PRESENCE_TIMEOUT):
            self.link = VpcdLink(card, self.host, self.port)
            self.link.attach()
            if wait_for_presence(self.reader, True, patience):
                return self.link
            # pcscd quirk: when SCardDisconnect(RESET) fails on a card that just vanished, pcscd
            # marks the reader empty behind its event thread's back, and a card attached before
            # the next poll is never announced. Taking it out and in again resynchronises it.
            self.link.detach()
            wait_for_presence(self.reader, False, FIRST_INSERT_TIMEOUT)
        self._fail(f"pcscd did not see the card in {self.reader!r} within {PRESENCE_TIMEOUT} s")

    def require_empty(self) -> None:
        """Fail unless the reader is empty (a link attached outside this slot may hold it)."""
        if not wait_for_presence(self.reader, False):
            self._fail(f"{self.reader!r} holds a card that was not inserted through VpcdSlot")

    def remove(self) -> None:
        """Detach the card (if any) and wait until pcscd reports the reader empty."""
        if self.link is None:
            return
        self.link.detach()
        self.link = None
        if not wait_for_presence(self.reader, False):
            self._fail(f"pcscd still sees a card in {self.reader!r} after {PRESENCE_TIMEOUT} s")


def _claim_slot(readers: list[str]) -> tuple[int, IO[bytes]]:
    """Lock a vpcd slot no other session holds and no foreign card occupies."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    while time.monotonic() < deadline:
        for index, reader in enumerate(readers):
            handle = _lock(f"slot-{index}.lock", fcntl.LOCK_EX, 0)
            if handle is None:
                continue
            if wait_for_presence(reader, False, timeout=0):
                return index, handle
            handle.close()  # a card attached by hand (koufu card attach): leave it alone
        time.sleep(0.1)
    pytest.fail(f"every vpcd slot stayed busy for {LOCK_TIMEOUT:.0f} s: {readers}")


@pytest.fixture(scope="session")
def vpcd_slot(pcscd: Pcscd) -> Iterator[VpcdSlot]:
    """The vpcd slot this session owns, as the previous test left it; emptied at the end."""
    index, handle = _claim_slot(pcscd.readers)
    slot = VpcdSlot(pcscd.readers[index], pcscd.base_port + index, pcscd)
    try:
        yield slot
    finally:
        slot.remove()
        handle.close()


@pytest.fixture
def vpcd(vpcd_slot: VpcdSlot) -> VpcdSlot:
    """The session's vpcd slot with no card in it (tests may attach their own VpcdLink)."""
    vpcd_slot.remove()
    vpcd_slot.require_empty()
    return vpcd_slot
