"""Who may do what in the console: three roles, and the municipality a viewer's questions are
scoped to. The guard (:mod:`center.console.access`) applies them; the pages only declare which
roles read them and which change through them.

- **operator** (センター運用者): reads and changes everything.
- **municipal** (市区町村職員): their own municipality only. Every query of a page is narrowed to
  it, and a URL naming another municipality is answered 404 (:class:`OutOfScope`), as if there
  were nothing there.
- **auditor** (監査人): reads everything, changes nothing, whatever a page declares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from center.calendar_rules import validate_municipality_code
from center.console.errors import BadInput, NotAllowed, OutOfScope


class Role(StrEnum):
    OPERATOR = "operator"
    MUNICIPAL = "municipal"
    AUDITOR = "auditor"


EVERYONE = frozenset(Role)
CENTER = frozenset({Role.OPERATOR, Role.AUDITOR})  # the center's own people: every municipality
NOBODY: frozenset[Role] = frozenset()


def may_change(role: Role) -> bool:
    """Whether the role may make any change at all: an auditor never may."""
    return role is not Role.AUDITOR


@dataclass(frozen=True)
class Scope:
    """The municipality a viewer's questions are about: ``None`` for every municipality."""

    municipality: str | None

    def narrowed(self, asked: str | None) -> str | None:
        """The municipality a query with the parameter ``asked`` is about: ``asked`` (checked) or
        every municipality for the center's people; their own for municipal staff, who asking
        another are refused as :class:`OutOfScope`."""
        if asked is not None and asked != "":
            try:
                asked = validate_municipality_code(asked)
            except ValueError:
                raise BadInput("bad_municipality", "not a municipality code") from None
        else:
            asked = None
        if self.municipality is None:
            return asked
        if asked is not None and asked != self.municipality:
            raise OutOfScope("not_found", "nothing here")
        return self.municipality

    def admits(self, municipality: str | None) -> bool:
        """Whether a row about ``municipality`` (``None``: about no one municipality, e.g. the
        national hours) may be shown."""
        return self.municipality is None or municipality in (None, self.municipality)

    def may_change(self, municipalities: Iterable[str | None]) -> None:
        """Refuse a change concerning ``municipalities`` (``None``: the whole service) outside the
        scope: municipal staff change only what concerns their own municipality alone, the whole
        service never (:class:`NotAllowed`), another municipality as if it were not there
        (:class:`OutOfScope`)."""
        if self.municipality is None:
            return
        concerned = set(municipalities)
        if concerned - {None, self.municipality}:
            raise OutOfScope("not_found", "nothing here")
        if None in concerned:
            raise NotAllowed("not_allowed", "municipal staff change only their own municipality's entries")


@dataclass(frozen=True)
class Viewer:
    """The signed-in account behind a request, and its session."""

    operator_id: int
    name: str
    role: Role
    municipality: str | None
    session: str  # the session row's key (the SHA-256 of the cookie's id)
    csrf: str

    @property
    def scope(self) -> Scope:
        return Scope(self.municipality if self.role is Role.MUNICIPAL else None)
