"""``koufu verify IMAGE_OR_PDF [--center URL --ca FILE] [--keys FILE] [--show] [--render DIR]``:
check the printed pages in a scan, photo or PDF, and say what the municipality issued on each.

For each page found: a line with the outcome, the issue number, the page and the municipality,
then, when the code's signature verified, the statement of what was issued (Japanese, then
English). ``--show`` adds the page's content as issued, a line a field; ``--render DIR`` writes
each verified page as issued, drawn by the renderer, to ``DIR/<issue number>-<page>.png`` (the
issue number's slashes as dashes; readable by its owner only), to lay beside the paper.

The published municipal keys come from ``--keys``, or else from the center's verification page
(``/verify/keys.json``). Without ``--center`` only the codes' signatures are checked
(``unconfirmed``). Exit status: 0 every page genuine, 1 a page is not, 2 nothing could be checked
(the input is unreadable, the keys or the center are missing or cannot be reached).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from printing.page_code import SignedPageCode
    from printing.verify import Verdict

ALL_GENUINE, NOT_GENUINE, UNREADABLE = 0, 1, 2
INDENT = " " * 13
PRIVATE_MODE = 0o600


def register(commands: Any) -> None:
    verify = commands.add_parser("verify", help="is a printed certificate genuine? (scan, photo or PDF)")
    verify.add_argument("file", type=Path, metavar="IMAGE_OR_PDF", help="PNG, JPEG, TIFF or PDF")
    verify.add_argument("--center", metavar="URL", help="the center (https://…): does the copy stand?")
    verify.add_argument("--ca", type=Path, metavar="FILE", help="the center's TLS CA certificate")
    verify.add_argument(
        "--keys", type=Path, metavar="FILE", help="the published municipal keys (default: the center's)"
    )
    verify.add_argument("--show", action="store_true", help="print each verified page's content as issued")
    verify.add_argument(
        "--render", type=Path, metavar="DIR", help="write each verified page as issued to DIR as PNG"
    )
    verify.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from documents import DocumentError
    from printing.verify import CenterStatus, check, load_keys, read_codes

    status = CenterStatus(args.center, ca=args.ca) if args.center else None
    try:
        codes = read_codes(args.file)
        if args.keys is not None:
            keys = load_keys(args.keys)
        elif status is not None:
            keys = status.keys()
        else:
            print("koufu verify: give --keys, or --center for the center's published keys", file=sys.stderr)
            return UNREADABLE
        verdicts = [check(code, keys, status) for code in codes]
    except (DocumentError, OSError) as error:
        print(f"koufu verify: {error}", file=sys.stderr)
        return UNREADABLE
    finally:
        if status is not None:
            status.close()
    for code, verdict in zip(codes, verdicts, strict=True):
        _print(verdict, show=args.show)
        if args.render is not None and verdict.claims is not None:
            _render(code, verdict, args.render)
    for number, pages, seen in _missing(verdicts):
        print(
            f"{'':<12} {number}: {len(seen)} of its {pages} pages found (missing "
            f"{', '.join(str(p) for p in range(1, pages + 1) if p not in seen)})"
        )
    return ALL_GENUINE if all(verdict.genuine for verdict in verdicts) else NOT_GENUINE


def _print(verdict: Verdict, *, show: bool) -> None:
    from printing.verify import content_lines

    where = " ".join(
        part for part in (verdict.municipality_name or verdict.municipality, verdict.issued_on) if part
    )
    page = f"page {verdict.page}/{verdict.pages}"
    line = f"{verdict.outcome.value:<12} {verdict.issue_number} {page}  {where}"
    print(line if verdict.genuine else f"{line}  ({verdict.words_en})")
    if verdict.claims is None:
        return
    print(f"{INDENT}{verdict.statement_ja}")
    print(f"{INDENT}{verdict.statement_en}")
    if show:
        for label, value in content_lines(verdict.claims):
            print(f"{INDENT}  {label}: {value}")


def _render(code: SignedPageCode, verdict: Verdict, directory: Path) -> None:
    """The page as issued, to ``directory`` (made 0700 if missing), named by issue number and page."""
    import io

    from printing.render import RenderError
    from printing.verify import issued_page

    try:
        image = issued_page(code)
    except RenderError as error:  # the content does not fit its layout, or a font is missing
        print(f"{INDENT}(the page cannot be drawn: {error.message}; see --show)")
        return
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{verdict.issue_number.replace('/', '-')}-{verdict.page}.png"
    out = io.BytesIO()
    image.save(out, "PNG")
    _write_private(path, out.getvalue())
    print(f"{INDENT}as issued: {path}")


def _write_private(path: Path, data: bytes) -> None:
    """``data`` to ``path``, 0600 before its first byte, replacing the path in one rename."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, PRIVATE_MODE)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _missing(verdicts: list[Verdict]) -> list[tuple[str, int, set[int]]]:
    """Copies whose pages are not all in the input (said, not a failure: a scan may hold one page)."""
    pages: dict[str, tuple[int, set[int]]] = {}
    for verdict in verdicts:
        if verdict.page is not None and verdict.pages is not None:
            pages.setdefault(verdict.issue_number, (verdict.pages, set()))[1].add(verdict.page)
    return [(number, total, seen) for number, (total, seen) in pages.items() if len(seen) < total]
