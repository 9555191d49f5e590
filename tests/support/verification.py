"""What the verification tests share: copies of a seal registration certificate really ordered in
the orders world (:mod:`support.world`), one printed, one voided, one never printed, each with its
page's signed code as the municipality made it, with the municipality's published keys; and
``koufu verify`` run as a subprocess.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from center.client import CenterClient
from center.enrolment import EnrolledTerminal
from center.municipal import service as municipal_service
from documents import Binding, OpenedDocument, TrustList
from printing.page_code import SignedPageCode, read_page_code
from printing.render import render_document
from support.world import SEAL, World, authenticate, opened

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Issued:
    code: SignedPageCode  # the page's signed code, as the municipality made it and the page prints it
    document: OpenedDocument
    binding: Binding  # the order's, as the kiosk checks it before printing
    name: str  # the resident's, as printed: a canary

    def rendered(self, trust: TrustList, dpi: int = 300) -> list[Image.Image]:
        """The pages as the kiosk's printer gets them."""
        return render_document(
            self.document, trust=trust, expected=self.binding, now=dt.datetime.now(dt.UTC), dpi=dpi
        )


@dataclass(frozen=True)
class Copies:
    printed: Issued
    voided: Issued
    not_printed: Issued
    keys_file: Path  # the published keys, with the municipality's name


def issue(
    world: World,
    terminal: EnrolledTerminal,
    client: CenterClient,
    *,
    printed: bool = False,
    void: bool = False,
) -> Issued:
    """A resident's seal registration certificate, ordered at a kiosk and opened as it would print it."""
    resident = world.resident()
    session_id = authenticate(world, client, resident)
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL])
    copy = order.copies[0]
    document = opened(world, copy, terminal, order.order_id, session_id, resident)
    if printed:
        assert client.printing(order.order_id).state == "printing"
        assert client.printed(order.order_id, [copy.issue_number]).state == "printed"
    if void:
        assert client.void(order.order_id, "cancelled").state == "voided"
    assert document.document.content["body"]["name"] == resident.name
    binding = Binding(
        order.order_id, session_id, terminal.terminal_id, Binding.holder_hash(resident.certificate)
    )
    return Issued(read_page_code(document.page_codes[0]), document, binding, resident.name)


def issue_copies(world: World, directory: Path, terminal_id: str) -> Copies:
    terminal, client = world.terminal(terminal_id)
    try:
        copies = [
            issue(world, terminal, client, printed=True),
            issue(world, terminal, client, void=True),
            issue(world, terminal, client),
        ]
    finally:
        client.close()
    published = json.loads((world.town.directory / municipal_service.PUBLIC_KEY_FILE).read_text())
    keys_file = directory / "municipal-keys.json"
    keys_file.write_text(json.dumps([{**published, "name": "千代田区"}], ensure_ascii=False))
    return Copies(*copies, keys_file)


def koufu_verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "koufu", "verify", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
