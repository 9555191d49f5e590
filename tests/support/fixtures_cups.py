"""pytest fixtures: a PRIVATE CUPS server (never the system's) with a test printer backend.

``cups_server`` (session): ``cupsd -f`` with its own ServerRoot, ServerBin, spool, cache, state
and logs in a temporary directory, listening on a free loopback port only. Its ServerBin links
the system's filters and holds ONE backend of its own, ``kioskprinter``, a small shell script
that plays a printer (the device URI says how):

- ``kioskprinter:/ok``: clears the conditions the last job left (as a real backend does when the
  printer is fine again), writes the job's document to ``outputs/<job id>.pdf``;
- ``kioskprinter:/slow``: the same after about two seconds;
- ``kioskprinter:/paper-out``: reports ``media-empty-error`` before the first page and waits;
- ``kioskprinter:/jam-after-1``: one page out (``outputs/<job id>.partial``, ``PAGE: 1 1``), then
  ``media-jam-error`` and waits;
- ``kioskprinter:/offline``: reports ``offline-report`` and exits 4 (CUPS_BACKEND_STOP: the queue
  stops, the job stays pending);
- ``kioskprinter:/fail``: exits 1 (CUPS_BACKEND_FAILED);
- ``kioskprinter:/hang``: never finishes and says nothing.

Every run of the backend is logged in ``outputs/runs.log`` (job id and title), so a test sees that
a job was sent to the printer exactly once. :meth:`CupsServer.add_printer` makes a new raw queue
for a mode (one per test, so no queue's state leaks into another test). A missing ``cupsd`` or
``lpadmin`` FAILS the tests (``make`` installs the cups packages): they are never skipped.
"""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CUPSD = Path("/usr/sbin/cupsd")
SYSTEM_SERVER_BIN = Path("/usr/lib/cups")
SYSTEM_RAW_TYPES = (Path("/etc/cups/raw.types"), Path("/etc/cups/raw.convs"))
INSTALL_HINT = "install the Debian packages cups, cups-client and cups-bsd (see the Makefile)"
STARTUP_TIMEOUT = 15.0

BACKEND = r"""#!/bin/sh
# kioskprinter: a CUPS backend playing a store printer for the tests (mode from the device URI)
if [ $# -eq 0 ]; then
    echo 'direct kioskprinter "Unknown" "Kiosk test printer"'
    exit 0
fi
outputs='@OUTPUTS@'
job=$1
title=$3
echo "$job $title" >> "$outputs/runs.log"
trap 'exit 0' TERM
wait_forever() { while :; do sleep 0.1; done; }
mode=${DEVICE_URI#kioskprinter:/}
case $mode in
ok|slow)
    echo "STATE: -media-empty-error,media-jam-error,offline-report" >&2
    [ "$mode" = slow ] && sleep 2
    cat "${6:--}" > "$outputs/$job.part" && mv "$outputs/$job.part" "$outputs/$job.pdf"
    exit 0;;
paper-out)
    echo "STATE: +media-empty-error" >&2
    wait_forever;;
jam-after-1)
    cat "${6:--}" > "$outputs/$job.partial"
    echo "PAGE: 1 1" >&2
    echo "STATE: +media-jam-error" >&2
    wait_forever;;
offline)
    echo "STATE: +offline-report" >&2
    exit 4;;
fail)
    exit 1;;
hang)
    wait_forever;;
esac
echo "ERROR: unknown mode $mode" >&2
exit 1
"""


@dataclass
class CupsServer:
    """The private cupsd the tests talk to."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    outputs: Path
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def server(self) -> str:
        """``host:port`` for libcups (``cups.setServer``, ``CUPS_SERVER``) and ``-h`` of the CLI."""
        return f"127.0.0.1:{self.port}"

    def run(self, *command: str) -> str:
        """A CUPS command-line tool against this server (``-h`` added); its output."""
        result = subprocess.run(
            [command[0], "-h", self.server, *command[1:]],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "LANG": "C"},
            check=False,
        )
        assert result.returncode == 0, f"{command[0]} failed: {result.stderr}\n{self.log_tail()}"
        return result.stdout

    def add_printer(self, mode: str, *, policy: str = "stop-printer") -> str:
        """A new raw queue for ``kioskprinter:/mode``, enabled and accepting; its name."""
        name = f"{mode.replace('-', '_')}_{next(self._names)}"
        self.run(
            "lpadmin", "-p", name, "-v", f"kioskprinter:/{mode}", "-o", f"printer-error-policy={policy}", "-E"
        )
        return name

    def runs(self, title: str) -> list[str]:
        """Job ids the backend was started for with job title ``title``."""
        log = self.outputs / "runs.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [line.split()[0] for line in lines if line.split()[1:] == [title]]

    def output(self, job_number: int, suffix: str = ".pdf") -> Path:
        return self.outputs / f"{job_number}{suffix}"

    def log_tail(self, lines: int = 40) -> str:
        log = self.root / "log" / "error_log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _configure(root: Path, port: int) -> Path:
    """Directories and configuration of a private cupsd under ``root``; its outputs directory."""
    server_root, server_bin, outputs = root / "etc", root / "bin", root / "outputs"
    for directory in (
        server_root,
        server_bin / "backend",
        root / "spool" / "tmp",
        root / "cache",
        root / "state",
        root / "log",
        outputs,
    ):
        directory.mkdir(parents=True)
    root.chmod(0o755)
    for part in ("filter", "daemon", "cgi-bin", "notifier", "monitor", "driver"):
        (server_bin / part).symlink_to(SYSTEM_SERVER_BIN / part)
    for path in SYSTEM_RAW_TYPES:  # application/octet-stream to a raw queue
        shutil.copy(path, server_root / path.name)
    backend = server_bin / "backend" / "kioskprinter"
    backend.write_text(BACKEND.replace("@OUTPUTS@", str(outputs)))
    backend.chmod(0o700)  # run as the server's own user (root here), so it can write the outputs
    group = grp.getgrgid(os.getgid()).gr_name
    (server_root / "cups-files.conf").write_text(
        "\n".join(
            [
                f"ServerRoot {server_root}",
                f"ServerBin {server_bin}",
                "DataDir /usr/share/cups",
                f"RequestRoot {root / 'spool'}",
                f"TempDir {root / 'spool' / 'tmp'}",
                f"CacheDir {root / 'cache'}",
                f"StateDir {root / 'state'}",
                f"ErrorLog {root / 'log' / 'error_log'}",
                f"AccessLog {root / 'log' / 'access_log'}",
                f"PageLog {root / 'log' / 'page_log'}",
                f"SystemGroup {group}",
                "",
            ]
        )
    )
    (server_root / "cupsd.conf").write_text(
        "\n".join(
            [
                f"Listen 127.0.0.1:{port}",
                "LogLevel debug",
                "Browsing No",
                "WebInterface No",
                "DefaultAuthType None",
                "PreserveJobHistory Yes",
                "JobRetryLimit 0",
                "MaxJobs 0",
                "<Location />",
                "  Order allow,deny",
                "  Allow from 127.0.0.1",
                "</Location>",
                "<Policy default>",
                "  <Limit All>",
                "    Order deny,allow",
                "  </Limit>",
                "</Policy>",
                "",
            ]
        )
    )
    return outputs


def _running(server: str) -> bool:
    result = subprocess.run(
        ["lpstat", "-h", server, "-r"],
        capture_output=True,
        text=True,
        timeout=10,
        env={**os.environ, "LANG": "C"},
        check=False,
    )
    return result.returncode == 0 and "is running" in result.stdout


@pytest.fixture(scope="session")
def cups_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CupsServer]:
    for tool in ("lpadmin", "lpstat", "lp", "cancel"):
        assert shutil.which(tool), f"{tool} is missing: {INSTALL_HINT}"
    assert CUPSD.exists(), f"{CUPSD} is missing: {INSTALL_HINT}"
    root = tmp_path_factory.mktemp("cups")
    port = _free_port()
    outputs = _configure(root, port)
    conf = root / "etc"
    files = ["-c", str(conf / "cupsd.conf"), "-s", str(conf / "cups-files.conf")]
    checked = subprocess.run([str(CUPSD), "-t", *files], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, f"cupsd refuses its configuration: {checked.stderr}"
    with (root / "log" / "stderr").open("wb") as stderr:
        process = subprocess.Popen([str(CUPSD), "-f", *files], stdout=subprocess.DEVNULL, stderr=stderr)
    server = CupsServer(root, port, process, outputs)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _running(server.server):
            assert process.poll() is None, f"cupsd exited: {server.log_tail()}"
            assert time.monotonic() < deadline, f"cupsd did not start: {server.log_tail()}"
            time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(OSError):
            shutil.rmtree(root)
