"""Forged pages and codes for the verification tests: a page drawn with other words under a genuine
code, a genuine code pasted on another page, a code whose content was changed under the kept
signature, and a code signed by a key nobody published.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable
from typing import Any

import base45
import cbor2
from PIL import Image

from documents import MunicipalKey
from documents.cose import COSE_SIGN1_TAG
from printing.page_code import (
    CLAIM_PAGE,
    PAGE_CONTENT,
    PREFIX,
    ZLIB_LEVEL,
    SignedPageCode,
    sign_page,
)
from printing.render import render_page


def page_with(code: SignedPageCode, content: dict[str, Any], *, qr: str, dpi: int = 300) -> Image.Image:
    """A page with ``code``'s facts (issue number, page, verification code) printing ``content``
    and carrying the QR code ``qr``: what a forger prints with the renderer's own look."""
    claims = code.claims
    return render_page(
        content,
        certificate_type=claims.certificate_type,
        page=claims.page,
        pages=claims.pages,
        page_number=claims.printed_issue_number,
        verification_code=claims.verification_code,
        payload=qr,
        dpi=dpi,
    )


def with_name(content: dict[str, Any], name: str) -> dict[str, Any]:
    """A seal registration page's content with another holder's name."""
    changed = copy.deepcopy(content)
    changed["body"]["name"] = name
    return changed


def content_changed(code: SignedPageCode, change: Callable[[dict[str, Any]], None]) -> str:
    """``code``'s text with its content changed by ``change`` and everything else kept: the
    protected header, the municipality's signature (which no longer covers the payload)."""
    claims = cbor2.loads(code.payload)
    change(claims[CLAIM_PAGE][PAGE_CONTENT])
    payload = cbor2.dumps(claims, canonical=True)
    cose = cbor2.dumps(
        cbor2.CBORTag(COSE_SIGN1_TAG, [code.protected, {}, payload, code.signature]), canonical=True
    )
    return PREFIX + base45.b45encode(zlib.compress(cose, ZLIB_LEVEL)).decode("ascii")


def signed_by(code: SignedPageCode, key: MunicipalKey) -> str:
    """``code``'s very claims signed with ``key`` (of the same municipality, but not published)."""
    return sign_page(code.claims, key)
