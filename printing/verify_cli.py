"""``koufu verify IMAGE_OR_PDF [--center URL --ca FILE] [--keys municipal-keys.json]``: check the
printed pages in a scan, photo or PDF, one line per page found.

The published municipal keys come from ``--keys``, or else from the center's verification page
(``/verify/keys.json``). Without ``--center`` only the codes' signatures are checked
(``unconfirmed``). Exit status: 0 every page genuine, 1 a page is not, 2 nothing could be checked
(the input is unreadable, the keys or the center are missing or cannot be reached).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from printing.verify import Verdict

ALL_GENUINE, NOT_GENUINE, UNREADABLE = 0, 1, 2


def register(commands: Any) -> None:
    verify = commands.add_parser("verify", help="is a printed certificate genuine? (scan, photo or PDF)")
    verify.add_argument("file", type=Path, metavar="IMAGE_OR_PDF", help="PNG, JPEG, TIFF or PDF")
    verify.add_argument("--center", metavar="URL", help="the center (https://…): does the copy stand?")
    verify.add_argument("--ca", type=Path, metavar="FILE", help="the center's TLS CA certificate")
    verify.add_argument(
        "--keys", type=Path, metavar="FILE", help="the published municipal keys (default: the center's)"
    )
    verify.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from documents import DocumentError
    from printing.verify import CenterStatus, check, load_keys, read_payloads

    status = CenterStatus(args.center, ca=args.ca) if args.center else None
    try:
        payloads = read_payloads(args.file)
        if args.keys is not None:
            keys = load_keys(args.keys)
        elif status is not None:
            keys = status.keys()
        else:
            print("koufu verify: give --keys, or --center for the center's published keys", file=sys.stderr)
            return UNREADABLE
        verdicts = [check(payload, keys, status) for payload in payloads]
    except (DocumentError, OSError) as error:
        print(f"koufu verify: {error}", file=sys.stderr)
        return UNREADABLE
    finally:
        if status is not None:
            status.close()
    for verdict in verdicts:
        where = " ".join(
            part for part in (verdict.municipality_name or verdict.municipality, verdict.issued_on) if part
        )
        page = f"page {verdict.page}/{verdict.pages}"
        line = f"{verdict.outcome.value:<12} {verdict.issue_number} {page}  {where}"
        print(line if verdict.genuine else f"{line}  ({verdict.words_en})")
    for number, pages, seen in _missing(verdicts):
        print(
            f"{'':<12} {number}: {len(seen)} of its {pages} pages found (missing "
            f"{', '.join(str(p) for p in range(1, pages + 1) if p not in seen)})"
        )
    return ALL_GENUINE if all(verdict.genuine for verdict in verdicts) else NOT_GENUINE


def _missing(verdicts: list[Verdict]) -> list[tuple[str, int, set[int]]]:
    """Copies whose pages are not all in the input (said, not a failure: a scan may hold one page)."""
    pages: dict[str, tuple[int, set[int]]] = {}
    for verdict in verdicts:
        if verdict.page is not None and verdict.pages is not None:
            pages.setdefault(verdict.issue_number, (verdict.pages, set()))[1].add(verdict.page)
    return [(number, total, seen) for number, (total, seen) in pages.items() if len(seen) < total]
