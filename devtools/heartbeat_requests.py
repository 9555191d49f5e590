"""The load generator's heartbeats, signed from templates: it shares the cores with the center
and PostgreSQL, so what it spends per request is taken from them.

A kiosk's heartbeat is one of a few bodies, to the same path, signed by the same terminal: its
``Content-Digest`` and every line of its signature base but the last are the same each time. A
:class:`HeartbeatRequests` prepares them once per body; per request only the time, the nonce, the
``@signature-params`` line and the ECDSA signature are made. The headers are exactly those
:func:`center.protocol.sign_request` makes (``tests/test_heartbeat_requests.py``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from center.content_digest import content_digest
from center.enrolment import EnrolledTerminal
from center.protocol import TERMINAL_REQUESTS
from center.signature_fields import LABEL, bytes_as_written, params_as_written, plain
from center.signing import COVERED, NONCE_BYTES
from documents import b64url_encode

PATH = "/v1/heartbeats"


class HeartbeatRequests:
    """One terminal's signed heartbeats, each of one of ``bodies``."""

    def __init__(self, terminal: EnrolledTerminal, bodies: Sequence[bytes], path: str = PATH) -> None:
        scheme = TERMINAL_REQUESTS
        if scheme.covered != COVERED:
            raise ValueError("a terminal's requests cover no scope fields")
        covered = params_as_written(scheme.covered, {})
        if covered is None or not plain(terminal.terminal_id):
            raise ValueError("the terminal's id needs the general serialiser")
        self.key = terminal.key
        self.bodies = list(bodies)
        self._sign = scheme.algorithm.sign
        # the @signature-params line around its time and its nonce
        self._before_created = f"{covered};created="
        self._before_nonce = f';keyid="{terminal.terminal_id}";alg="{scheme.algorithm.name}";nonce="'
        self._after_nonce = f'";tag="{scheme.tag}"'
        self._digests = [content_digest(body) for body in self.bodies]
        head = f'"@method": POST\n"@path": {path}\n"@query": ?\n"content-digest": '
        self._bases = [f'{head}{digest}\n"@signature-params": ' for digest in self._digests]

    def headers(self, which: int, *, created: int | None = None, nonce: str | None = None) -> dict[str, str]:
        """The headers of a heartbeat of ``bodies[which]``, signed now (or at ``created``) with a
        new nonce (or ``nonce``)."""
        if created is None:
            created = int(time.time())
        if nonce is None:
            nonce = b64url_encode(secrets.token_bytes(NONCE_BYTES))
        params = f"{self._before_created}{created}{self._before_nonce}{nonce}{self._after_nonce}"
        signature = self._sign(self.key, (self._bases[which] + params).encode("ascii"))
        return {
            "Content-Type": "application/json",
            "Content-Digest": self._digests[which],
            "Signature-Input": f"{LABEL}={params}",
            "Signature": f"{LABEL}={bytes_as_written(signature)}",
        }
