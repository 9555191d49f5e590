"""Which of the center's worker processes answered a request, read from the outside (``/proc``),
so that a test can make requests until every worker has answered one, without the center saying
anything about its processes.

The center's workers (uvicorn's, spawned by the ``koufu center serve`` process) share one
listening socket: the kernel hands each new connection to one of them. The worker holding the
server's end of a connection is the one that answered every request sent on it: its end is the
TCP socket of ``/proc/net/tcp`` from the center's port to the client's, and the worker is the
process with a file descriptor on that socket.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import httpx


def center_workers(supervisor: int) -> set[int]:
    """The pids of the worker processes of the center process ``supervisor`` (itself when it
    serves alone: one worker runs in the supervisor's process)."""
    workers = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == supervisor and b"spawn_main" in command:
            workers.add(int(entry.name))
    return workers or {supervisor}


def answered_by(response: httpx.Response, workers: Iterable[int]) -> int:
    """The worker of ``workers`` that answered ``response`` (its connection still open)."""
    _host, client_port = response.extensions["network_stream"].get_extra_info("client_addr")
    server_port = response.url.port
    assert server_port is not None
    socket = f"socket:[{_server_end(server_port, client_port)}]"
    for pid in workers:
        descriptors = Path(f"/proc/{pid}/fd")
        for descriptor in descriptors.iterdir():
            try:
                if os.readlink(descriptor) == socket:
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker of {sorted(workers)} holds the connection from port {client_port}")


def _server_end(server_port: int, client_port: int) -> str:
    """The inode of the server's end of the loopback connection between the two ports."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return inode
    raise AssertionError(f"no connection from port {client_port} to port {server_port}")
