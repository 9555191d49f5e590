"""A whole development stack on loopback: the JPKI authority, the center and municipal issuance
servers as real server processes over TLS (started as an operator would, with ``koufu … serve``),
synthetic towns, terminals enrolled, calendars loaded — set up through the product's library
functions, the same ones its command line calls. Used by the end-to-end tests, ``make run``,
``make screenshots`` and ``make bench``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
from cryptography import x509

from center.authority.service import AuthorityService
from center.calendar import ServiceCalendar
from center.calendar_store import store_calendar
from center.client import CenterClient, CenterRefusal
from center.config import CenterConfig, initialise, write_tls_identity
from center.enrolment import EnrolledTerminal
from center.municipal import schema as municipal_schema
from center.municipal import service as municipal_service
from center.municipal import settings as municipal_settings
from center.store.schema_versions import make_engine
from center.terminals import TerminalCA
from center.tls import trust
from devtools.synthetic import DomicileRegisters, Population, generate, generate_domicile
from documents import JST
from documents.prefectures import prefecture_of
from kiosk.config import STAND_IN
from kiosk.staff import StaffCode

STARTUP_TIMEOUT = 30.0
DEMO_STAFF_CODE = "24681357"  # the store staff's maintenance code of kiosks made here (make run says it)
HEARTBEAT_NICE = 10  # the heartbeat group's niceness step (koufu center serve --nice)
AUTHORITY_TOKEN = "authority-token"  # a domicile's verifier token at the authority (its OCSP)
CALENDAR_TIMEOUT = 15.0  # every center process re-reads the stored calendar within 5 s
# open every day at every hour: tests and benchmarks must not depend on the time they run at
ALWAYS_OPEN: dict[str, object] = {
    "format": 1,
    "service_hours": {"opens": "00:00", "closes": "24:00"},
    "year_end_closure": None,
    "maintenance": [],
    "municipality_stops": [],
    "certificate_hours": [],
    "suspensions": [],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Town:
    """A municipal issuance server of the stack and who lives in its town."""

    code: str
    directory: Path
    url: str
    people: Population
    process: subprocess.Popen[bytes] | None = None
    db_url: str | None = None  # None: the SQLite file in its directory
    # a registers-only municipality (本籍地, :meth:`DevStack.add_domicile`): whom of a town it keeps
    registers: DomicileRegisters | None = None
    name: str = ""  # the municipality's (千代田区)

    @property
    def database_url(self) -> str:
        return self.db_url or municipal_service.default_url(self.directory)

    def link_card(self, certificate_serial: int, resident_id: int) -> None:
        """The resident's card is this certificate from now on (linked two days ago: usable)."""
        engine = make_engine(self.database_url)
        try:
            with engine.begin() as connection:
                links = municipal_schema.card_links
                connection.execute(links.delete().where(links.c.resident_id == resident_id))
                connection.execute(
                    links.insert().values(
                        certificate_serial=certificate_serial,
                        resident_id=resident_id,
                        linked_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
                    )
                )
        finally:
            engine.dispose()

    def name_of(self, resident_id: int) -> str:
        """As the certificates print it (氏　名)."""
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                residents = municipal_schema.residents
                row = connection.execute(
                    sa.select(residents.c.family_name, residents.c.given_name).where(
                        residents.c.id == resident_id
                    )
                ).one()
        finally:
            engine.dispose()
        return f"{row.family_name}　{row.given_name}"


@dataclass
class DevStack:
    root: Path
    authority_dir: Path
    authority_db: str | None
    center_dir: Path
    authority_url: str = ""
    center_url: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    towns: dict[str, Town] = field(default_factory=dict)
    center_process: subprocess.Popen[bytes] | None = None  # the newest
    # the center's group serving heartbeats only (start_heartbeat_group), if one was started
    heartbeat_url: str = ""
    heartbeat_process: subprocess.Popen[bytes] | None = None

    @property
    def center_tls(self) -> str:
        return str(self.center_dir / "tls.crt")

    @property
    def center_log(self) -> Path:
        return self.root / "center.log"

    def enroll(self, terminal_id: str, store: str = "テスト店") -> EnrolledTerminal:
        """A new terminal of the center, its credentials also saved in ``terminals/<id>``."""
        config = CenterConfig.load(self.center_dir)
        return config.enroll_terminal(
            terminal_id, store, self.root / "terminals" / terminal_id, now=dt.datetime.now(dt.UTC)
        )

    def kiosk_config(
        self,
        terminal_id: str,
        *,
        reader: str = "pcsc",
        print_to: str = STAND_IN,
        peripherals: str = STAND_IN,
        staff_code: str = DEMO_STAFF_CODE,
        heartbeat_url: str | None = None,
    ) -> Path:
        """A kiosk's settings file for a newly enrolled terminal: this center, the towns' published
        keys as the trust list (the center's ``municipal-keys.json`` as it is: one form for both), a
        journal of its own, and its devices named (the stand-ins unless told otherwise; see
        :mod:`kiosk.config`); its heartbeats to ``heartbeat_url`` when given (else the center's)."""
        directory = self.root / "kiosks" / terminal_id
        self.enroll(terminal_id).save(directory / "terminal")
        published = self.center_dir / "municipal-keys.json"
        keys = published.read_bytes() if published.exists() else b"[]"  # no town yet: none
        (directory / "municipal-keys.json").write_bytes(keys)
        path = directory / "kiosk.toml"
        path.write_text(
            f'center_url = "{self.center_url}"\ncenter_ca = "{self.center_tls}"\n'
            f'terminal = "terminal"\ntrust = "municipal-keys.json"\njournal = "journal.json"\n'
            f'reader = "{reader}"\nprint_to = "{print_to}"\nperipherals = "{peripherals}"\n'
            f'staff_code = "{StaffCode.make(staff_code, iterations=20_000).text()}"\n'
            + (f'heartbeat_url = "{heartbeat_url}"\n' if heartbeat_url else "")
        )
        return path

    def client(self, terminal: EnrolledTerminal, url: str | None = None) -> CenterClient:
        return CenterClient(url or self.center_url, terminal, verify=self.center_tls)

    def authority(self) -> AuthorityService:
        return AuthorityService.open(self.authority_dir, db_url=self.authority_db)

    def start_center(self, *, workers: int = 1, role: str = "all", nice: int = 0) -> str:
        """One more center process group on the same configuration and database, serving ``role``
        (``koufu center serve --role``) at niceness ``nice``; returns its URL."""
        port = free_port()
        log = self.center_log.open("ab")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "koufu",
                "center",
                "serve",
                "--dir",
                str(self.center_dir),
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--role",
                role,
                "--nice",
                str(nice),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        if role == "heartbeats":
            self.heartbeat_process = process
        else:
            self.center_process = process
        url = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"center exited: {self.center_log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/v1/health", verify=trust(self.center_tls), timeout=1).status_code == 200:
                    return url
            if time.monotonic() > deadline:
                raise RuntimeError("center did not come up")
            time.sleep(0.1)

    def start_heartbeat_group(self, *, workers: int = 1, nice: int = HEARTBEAT_NICE) -> str:
        """The center's group serving heartbeats only, at a lower priority (topology multi);
        its URL is also :attr:`heartbeat_url` (a kiosk's ``heartbeat_url``)."""
        self.heartbeat_url = self.start_center(workers=workers, role="heartbeats", nice=nice)
        return self.heartbeat_url

    def load_calendar(self, calendar: Mapping[str, object]) -> None:
        """Store ``calendar`` (docs/calendar.md) as the center's calendar in force."""
        engine = CenterConfig.load(self.center_dir).migrated_engine()
        try:
            with engine.begin() as connection:
                store_calendar(connection, ServiceCalendar.from_dict(calendar), dt.datetime.now(dt.UTC))
        finally:
            engine.dispose()

    def wait_until_open(self, client: CenterClient) -> None:
        """Until the center opens sessions (its processes have re-read the stored calendar)."""
        deadline = time.monotonic() + CALENDAR_TIMEOUT
        while True:
            try:
                client.open_session()
                return
            except CenterRefusal as refusal:
                if refusal.status != 403 or time.monotonic() > deadline:
                    raise
                time.sleep(0.25)

    def add_town(
        self,
        code: str,
        name: str,
        *,
        households: int,
        seed: int,
        db_url: str | None = None,
        far_domicile: tuple[str, str] | None = None,
    ) -> Town:
        """A synthetic municipality with its issuance server, trusting this center's bridge key
        and terminal CA; the center is told where it is (start the center afterwards).
        ``far_domicile`` (prefecture, municipality): every 本籍 of its residents kept elsewhere is
        there (see :meth:`add_domicile`)."""
        directory = self._initialise_municipality(code, name, db_url)
        engine = make_engine(db_url or municipal_service.default_url(directory))
        try:
            with engine.begin() as connection:
                people = generate(
                    connection,
                    municipality=code,
                    name=name,
                    prefecture=prefecture_of(code),
                    households=households,
                    seed=seed,
                    today=dt.datetime.now(JST).date(),
                    first_serial=10**9 + seed * 10**6,
                    far_domicile=far_domicile,
                )
        finally:
            engine.dispose()
        return self._serve(Town(code, directory, "", people, db_url=db_url, name=name))

    def add_domicile(self, code: str, name: str, *, town: str, seed: int, db_url: str | None = None) -> Town:
        """A registers-only municipality (本籍地): nobody of the stack lives there, but it keeps the
        family registers of the residents of ``town`` whose 本籍 is there (the town made with
        ``far_domicile`` naming this one: :func:`devtools.synthetic.generate_domicile`), with its
        issuance server like a town's, known to the center (start the center afterwards: it
        collects its sealing key), in the kiosks' trust list, and with a verifier token of the
        authority (:data:`AUTHORITY_TOKEN` in its directory) for ``check-revocations``."""
        directory = self._initialise_municipality(code, name, db_url)
        engine = make_engine(db_url or municipal_service.default_url(directory))
        source = make_engine(self.towns[town].database_url)
        try:
            with source.connect() as residents, engine.begin() as connection:
                registers = generate_domicile(
                    connection,
                    town=residents,
                    prefecture=prefecture_of(code),
                    name=name,
                    seed=seed,
                    today=dt.datetime.now(JST).date(),
                )
        finally:
            source.dispose()
            engine.dispose()
        with self.authority() as authority:
            token = authority.add_verifier(f"municipality {code}")
        token_file = directory / AUTHORITY_TOKEN
        token_file.touch(mode=0o600)
        token_file.write_text(token + "\n")
        people = Population.registers_only(registers.registers)
        return self._serve(Town(code, directory, "", people, db_url=db_url, registers=registers, name=name))

    def registrations_command(self, code: str, *arguments: str) -> list[str]:
        """``koufu municipal registrations ARGUMENTS`` for the municipality ``code``, as its staff run
        it; ``check-revocations`` is given the authority's OCSP responder, token and TLS trust."""
        town = self.towns[code]
        command = [sys.executable, "-m", "koufu", "municipal", "registrations", *arguments]
        command += ["--dir", str(town.directory), *(["--db", town.db_url] if town.db_url else [])]
        if arguments[:1] == ("check-revocations",):
            command += [
                "--ocsp-url",
                f"{self.authority_url}/ocsp",
                "--token-file",
                str(town.directory / AUTHORITY_TOKEN),
                "--ca-bundle",
                str(self.authority_dir / "tls.crt"),
            ]
        return command

    def _initialise_municipality(self, code: str, name: str, db_url: str | None) -> Path:
        """A municipality's directory, settings and keys, trusting this center and the authority."""
        directory = self.root / "municipal" / code
        config = CenterConfig.load(self.center_dir)
        settings = municipal_settings.typical(code, name, name, prefecture_of(code), f"{name}長　山田　太郎")
        municipal_service.initialise(
            directory,
            settings,
            center_keys=[config.bridge_key().public_key()],
            terminal_cas=[TerminalCA.load_or_create(self.center_dir).certificate],
            jpki_anchors=[
                x509.load_pem_x509_certificate(path.read_bytes())
                for path in sorted((self.authority_dir / "ca").glob("user-auth-*.crt"))
            ],
            jpki_signing_anchors=[
                x509.load_pem_x509_certificate(path.read_bytes())
                for path in sorted((self.authority_dir / "ca").glob("signing-*.crt"))
            ],
            db_url=db_url,
        )
        return directory

    def _serve(self, town: Town) -> Town:
        """Start the municipality's server and tell the center (and the kiosks' trust) of it."""
        town.url = f"https://127.0.0.1:{free_port()}"
        self.towns[town.code] = town
        url = self.start_town(town.code)
        config = CenterConfig.load(self.center_dir)
        config.municipalities[town.code] = {"url": url, "ca_bundle": str(town.directory / "tls.crt")}
        config.save()
        self._publish_keys(name_of={town.code: town.name})
        return town

    def _publish_keys(self, name_of: Mapping[str, str]) -> None:
        """The towns' published signing keys in the center's directory (``municipal-keys.json``,
        read by its verification page), each with the town's name."""
        path = self.center_dir / "municipal-keys.json"
        entries = json.loads(path.read_text()) if path.exists() else []
        known = {entry["key_id"] for entry in entries}
        for town in self.towns.values():
            entry = json.loads((town.directory / municipal_service.PUBLIC_KEY_FILE).read_text())
            if entry["key_id"] not in known:
                entries.append({**entry, "name": name_of.get(town.code, town.code)})
        path.write_text(json.dumps(entries, ensure_ascii=False))

    def start_town(self, code: str) -> str:
        """(Re)start the municipal server of ``code``, on its port; returns its URL."""
        town = self.towns[code]
        log = (self.root / f"municipal-{code}.log").open("ab")
        port = town.url.rsplit(":", 1)[1]
        db = ["--db", town.db_url] if town.db_url else []
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "koufu",
                "municipal",
                "serve",
                "--dir",
                str(town.directory),
                *db,
                "--port",
                port,
            ],
            stdout=subprocess.PIPE,
            stderr=log,
        )
        self.processes.append(process)
        town.process = process
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        if "listening on" not in line:
            raise RuntimeError(
                f"municipality {code} did not start: "
                f"{(self.root / f'municipal-{code}.log').read_text()[-2000:]}"
            )
        return line.rsplit(" ", 1)[1].strip()

    def stop_authority(self) -> None:
        if self.processes:
            _stop(self.processes[0])

    def stop(self) -> None:
        for process in reversed(self.processes):
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_stack(
    root: Path,
    *,
    center_db: str | None = None,
    authority_db: str | None = None,
    topology: str = "single",
    workers: int = 1,
    session_lifetime: int = 180,
    towns: Mapping[str, tuple[str, int]] | None = None,
    order_deadline: int = 600,
    housekeeping: float = 60.0,
    town_dbs: Mapping[str, str] | None = None,
    heartbeat_workers: int = 0,
    heartbeat_nice: int = HEARTBEAT_NICE,
    domiciles: Mapping[str, tuple[str, str]] | None = None,
) -> DevStack:
    """The stack, with a synthetic town per entry of ``towns`` (code → (name, households)), each
    on the database ``town_dbs[code]`` (default: SQLite in its directory), and a registers-only
    municipality per entry of ``domiciles`` (code → (name, the code of the town whose residents
    have their 本籍 there): :meth:`DevStack.add_domicile`, on ``town_dbs[code]`` too); with
    ``heartbeat_workers``, also a center group of that many processes serving heartbeats only, at
    niceness ``heartbeat_nice`` (:meth:`DevStack.start_heartbeat_group`; topology multi)."""
    stack = DevStack(root, root / "authority", authority_db, root / "center")
    db = ["--db", authority_db] if authority_db else []
    with AuthorityService.open(stack.authority_dir, db_url=authority_db, create=True) as authority:
        token = authority.add_verifier("center")
    write_tls_identity(stack.authority_dir, "tls", ["127.0.0.1"])
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "koufu",
            "authority",
            "serve",
            "--dir",
            str(stack.authority_dir),
            *db,
            "--port",
            "0",
            "--tls-cert",
            str(stack.authority_dir / "tls.crt"),
            "--tls-key",
            str(stack.authority_dir / "tls.key"),
        ],
        stdout=subprocess.PIPE,
        stderr=(root / "authority.log").open("wb"),
    )
    stack.processes.append(process)
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if "listening on" not in line:
        stack.stop()
        raise RuntimeError(f"authority did not start: {(root / 'authority.log').read_text()[-2000:]}")
    stack.authority_url = line.rsplit(" ", 1)[1].strip()

    config = initialise(stack.center_dir, center_db, topology)
    config.migrated_engine().dispose()
    config.use_authority(
        stack.authority_url,
        token,
        ca_bundle=stack.authority_dir / "tls.crt",
        anchors=sorted((stack.authority_dir / "ca").glob("user-auth-*.crt")),
    )
    config.session_lifetime_seconds = session_lifetime
    config.order_deadline_seconds = order_deadline
    config.housekeeping_seconds = housekeeping
    config.save()
    far = {town: (prefecture_of(code), name) for code, (name, town) in (domiciles or {}).items()}
    for seed, (code, (name, households)) in enumerate((towns or {}).items(), start=1):
        stack.add_town(
            code,
            name,
            households=households,
            seed=seed,
            db_url=(town_dbs or {}).get(code),
            far_domicile=far.get(code),
        )
    for seed, (code, (name, town)) in enumerate((domiciles or {}).items(), start=len(towns or {}) + 1):
        stack.add_domicile(code, name, town=town, seed=seed, db_url=(town_dbs or {}).get(code))
    stack.center_url = stack.start_center(workers=workers)
    if heartbeat_workers:
        stack.start_heartbeat_group(workers=heartbeat_workers, nice=heartbeat_nice)
    return stack


def summary(stack: DevStack) -> str:
    return json.dumps({"authority": stack.authority_url, "center": stack.center_url})
