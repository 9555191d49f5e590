"""The load generator's heartbeats made from templates (devtools/heartbeat_requests.py, used by the
heartbeat benchmark) carry exactly the headers a terminal's signer makes for the same body, time
and nonce, and verify as any terminal request does."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric import ec

from center.enrolment import EnrolledTerminal
from center.protocol import TERMINAL_REQUESTS, sign_request
from center.signing import Target, field_values
from devtools.heartbeat_requests import PATH, HeartbeatRequests

CREATED = 1795395600
NONCE = "AAECAwQFBgcICQoLDA0ODw"


def test_a_template_heartbeat_is_what_the_signer_makes_and_it_verifies() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    terminal = EnrolledTerminal("H-0001", key, None)  # type: ignore[arg-type]  # no certificate needed
    bodies = [b'{"printer":"ready"}', b'{"printer":"paper_low"}', b""]
    requests = HeartbeatRequests(terminal, bodies)
    at = dt.datetime.fromtimestamp(CREATED, dt.UTC)
    for which, body in enumerate(bodies):
        made = requests.headers(which, created=CREATED, nonce=NONCE)
        signed = sign_request(key, "H-0001", "POST", PATH, body, now=at, nonce=NONCE).as_dict()
        # ECDSA signatures differ each time: everything else is the same bytes
        assert {**made, "Signature": ""} == {"Content-Type": "application/json", **signed, "Signature": ""}
        credentials = TERMINAL_REQUESTS.credentials(field_values(made.items()), body)
        checked = TERMINAL_REQUESTS.check(credentials, Target("POST", PATH), at)
        assert checked.verifies_with(key.public_key())
    fresh = requests.headers(0)
    assert fresh["Signature-Input"] != requests.headers(0)["Signature-Input"]  # a new nonce each time
