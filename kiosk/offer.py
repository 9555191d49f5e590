"""What the municipality offers one resident now (交付可能な証明書と選択肢), as the steps read it.

:class:`kiosk.center_link.KioskSession` makes an :class:`Offer` from the center's answer and the
personal part it opened (sealed by the municipality to this terminal); the steps read these
fields, never the center's JSON. The household's names are personal: an offer lives in the
session's context only, and goes with it at the wipe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.errors import Refusal


@dataclass(frozen=True)
class CertificateOffer:
    """One certificate type as offered now: its fee (手数料), the most copies of it, and whether
    it can be issued now (``reason``: why not, as a refusal code: the municipality's own, opened
    from the offer's sealed part when it is about the person, the center's calendar's, or
    ``issuance_stopped``, an operator's stop; ``refusal``: the words the center sent with its
    own reasons, which for a stop are the operator's reason)."""

    fee: int
    max_copies: int
    available: bool
    reason: str | None
    refusal: Refusal | None = None  # the center's words, when it closed it (the calendar, a stop)
    # the municipality's own reason about the person, from the sealed part, whatever the calendar
    # or a stop says in public (e.g. ``no_register_here`` on a family register closed for the night)
    personal_reason: str | None = None


@dataclass(frozen=True)
class Member:
    """One member of the resident's household (世帯員), to choose on a resident record."""

    member: int  # the municipality's id of the person
    name: str
    name_kana: str | None
    relationship: str  # 続柄, as the register says it
    holder: bool  # the card's holder

    def view(self) -> dict[str, object]:
        """As the options screen's view lists a member (``chosen`` is added there)."""
        return {
            "member": self.member,
            "name": self.name,
            "name_kana": self.name_kana,
            "relationship": self.relationship,
            "holder": self.holder,
        }


@dataclass(frozen=True)
class Offer:
    """Everything the resident can choose in this session: the public part (certificates, fees,
    copies) and the personal part (household members, tax years and kinds, whether My Number may
    be printed on a resident record)."""

    municipality: str
    certificates: Mapping[str, CertificateOffer]  # by certificate type
    max_copies: int  # copies of all certificates in one order
    household: tuple[Member, ...]
    tax_years: tuple[int, ...]
    tax_kinds: tuple[str, ...]
    my_number: bool
