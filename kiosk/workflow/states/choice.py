"""Choosing: the certificate, its options, the copies, then the content and fee confirmed.

What can be chosen is what the center and the municipality offered at the PIN step (fees,
copies, what can be issued now and why not; the household's members and the tax years, opened
from the part sealed to this terminal).

Views:

- certificate_type: ``{"certificates": [{"type", "fee", "available", "reason", "refusal"}],
  "basket": n, "refusal": {...} | None, "record": True}`` (a certificate's ``refusal``: the
  center's words when it closed it, the calendar's or an operator's stop) —
  ``Touch("choose", "resident_record")``; ``record``: the issuance record (交付履歴) instead.
- options: ``{"certificate_type", "members": [{"member", "name", "relationship", "holder",
  "chosen"}], "flags": {name: bool}, "tax_kinds", "tax_kind", "tax_years", "tax_year",
  "scopes", "scope"}`` (the items that apply) — ``member`` (an id), ``flag`` (a name),
  ``tax_kind``, ``tax_year``, ``scope``, then ``next``.
- copies: ``{"copies": n, "most": n}`` — ``more``, ``less``, ``next``.
- confirm: ``{"items": [{"type", "copies", "fee", "options"}], "total": yen, "can_add": bool}`` —
  ``next`` (pay), ``another`` (one more certificate), ``back``.
"""

from __future__ import annotations

from typing import Any

from kiosk.offer import Offer
from kiosk.workflow.context import CertificateOptions, Chosen, SessionContext
from kiosk.workflow.states.base import State, ending, shown
from kiosk.workflow.steps import Outcome, Step

# which certificates each answer of the whose step shows (住所地 / 本籍地)
CERTIFICATES = {
    "residence": ("resident_record", "resident_record_entries", "seal_registration", "tax"),
    "domicile": ("family_register", "family_register_attachment"),
}
RESIDENT_RECORDS = ("resident_record", "resident_record_entries")
NO_OPTIONS = ("seal_registration",)
RECORD_FLAGS = ("head_and_relationship", "domicile", "my_number")
SCOPES = ("individual", "full")
NO_REGISTER_HERE = "no_register_here"  # the residence's refusal: the register is kept elsewhere


def offered(context: SessionContext) -> Offer:
    """The offer read at the PIN step (every choice comes after it)."""
    assert context.offers is not None
    return context.offers


def chosen(context: SessionContext) -> Chosen:
    """The certificate being chosen (chosen at the certificate type step)."""
    assert context.choosing is not None
    return context.choosing


def fee_of(context: SessionContext, item: Chosen) -> int:
    return offered(context).certificates[item.certificate_type].fee * item.copies


def copies_in(context: SessionContext) -> int:
    return sum(item.copies for item in context.basket)


class CertificateType(State):
    step = Step.CERTIFICATE_TYPE
    timeout = 90

    async def run(self, context: SessionContext) -> Outcome:
        certificates = offered(context).certificates
        listed = [
            {
                "type": kind,
                "fee": certificates[kind].fee,
                "available": certificates[kind].available,
                "reason": certificates[kind].reason,
                "refusal": shown(certificates[kind].refusal),
            }
            for kind in CERTIFICATES[context.whose]
            if kind in certificates
        ]
        self.show(
            certificates=listed, basket=len(context.basket), refusal=shown(context.refusal), record=True
        )
        while True:
            touch = await self.touch("choose", "record")
            if touch.action == "record":
                context.refusal = None
                return Outcome.RECORD
            if touch.action != "choose":
                return Outcome.CANCEL
            if any(item["type"] == touch.value and item["available"] for item in listed):
                context.refusal = None
                context.choosing = Chosen(touch.value, default_options(touch.value, offered(context)))
                return Outcome.NO_OPTIONS if touch.value in NO_OPTIONS else Outcome.NEXT


def keeps_register(offer: Offer) -> bool:
    """Whether the residence municipality keeps the resident's family register itself (its offer
    has the register, and its own sealed reason is not ``no_register_here``): then the registered
    domicile's certificates come from it, as a resident's do, and no usage registration is asked.
    The sealed reason decides, not the public one: a family register closed for the night by the
    calendar or the municipality's hours says so in public, whoever keeps the register."""
    return any(
        kind in offer.certificates and offer.certificates[kind].personal_reason != NO_REGISTER_HERE
        for kind in CERTIFICATES["domicile"]
    )


def default_options(kind: str, offer: Offer) -> CertificateOptions:
    """What a resident choosing only for themselves gets (what the offer was checked with)."""
    if kind in RESIDENT_RECORDS:
        holder = [member.member for member in offer.household if member.holder]
        return {"members": holder, **dict.fromkeys(RECORD_FLAGS, False)}
    if kind == "tax":
        return {
            "kind": offer.tax_kinds[0] if offer.tax_kinds else None,
            "tax_year": offer.tax_years[0] if offer.tax_years else None,
        }
    if kind == "family_register":
        return {"scope": "individual"}
    if kind == "family_register_attachment":
        return {"domicile": False}
    return {}


class Options(State):
    step = Step.OPTIONS
    timeout = 90

    async def run(self, context: SessionContext) -> Outcome:
        choosing = chosen(context)
        offer = offered(context)
        options = choosing.options
        while True:
            self.show(certificate_type=choosing.certificate_type, **self._view(options, offer))
            touch = await self.touch("member", "flag", "tax_kind", "tax_year", "scope", "next")
            if (outcome := ending(touch)) is not None:
                return outcome
            if touch.action == "next" and self._complete(options):
                return Outcome.NEXT
            self._apply(touch.action, touch.value, options, offer)

    @staticmethod
    def _flags(offer: Offer) -> tuple[str, ...]:
        return RECORD_FLAGS if offer.my_number else RECORD_FLAGS[:2]

    def _view(self, options: CertificateOptions, offer: Offer) -> dict[str, Any]:
        if "members" in options:
            members = options["members"]
            assert isinstance(members, list)
            return {
                "members": [
                    {**member.view(), "chosen": member.member in members} for member in offer.household
                ],
                "flags": {flag: options[flag] for flag in self._flags(offer)},
            }
        if "tax_year" in options:
            return {
                "tax_kinds": list(offer.tax_kinds),
                "tax_kind": options["kind"],
                "tax_years": list(offer.tax_years),
                "tax_year": options["tax_year"],
            }
        if "scope" in options:
            return {"scopes": list(SCOPES), "scope": options["scope"]}
        return {"flags": {"domicile": options.get("domicile", False)}}

    def _apply(self, action: str, value: Any, options: CertificateOptions, offer: Offer) -> None:
        if action == "member" and "members" in options:
            if any(member.member == value for member in offer.household):
                members = options["members"]
                assert isinstance(members, list)
                if value in members:
                    members.remove(value)
                else:
                    members.append(value)
                    members.sort()
        elif action == "flag" and value in options and isinstance(options[value], bool):
            if "members" not in options or value in self._flags(offer):
                options[value] = not options[value]
        elif action == "tax_kind" and value in offer.tax_kinds and "kind" in options:
            options["kind"] = value
        elif action == "tax_year" and value in offer.tax_years and "tax_year" in options:
            options["tax_year"] = value
        elif action == "scope" and value in SCOPES and "scope" in options:
            options["scope"] = value

    @staticmethod
    def _complete(options: CertificateOptions) -> bool:
        if "members" in options:
            return bool(options["members"])
        return all(value is not None for value in options.values())


class Copies(State):
    step = Step.COPIES
    timeout = 60

    async def run(self, context: SessionContext) -> Outcome:
        choosing = chosen(context)
        offer = offered(context)
        most = max(
            1,
            min(
                offer.certificates[choosing.certificate_type].max_copies,
                offer.max_copies - copies_in(context),
            ),
        )
        choosing.copies = min(choosing.copies, most)
        while True:
            self.show(copies=choosing.copies, most=most, fee=fee_of(context, choosing))
            touch = await self.touch("more", "less", "next")
            if (outcome := ending(touch)) is not None:
                return outcome
            if touch.action == "next":
                return Outcome.NEXT
            step = 1 if touch.action == "more" else -1
            choosing.copies = min(most, max(1, choosing.copies + step))


class Confirm(State):
    step = Step.CONFIRM
    timeout = 90

    async def run(self, context: SessionContext) -> Outcome:
        choosing = chosen(context)
        items = [*context.basket, choosing]
        total = sum(fee_of(context, item) for item in items)
        can_add = copies_in(context) + choosing.copies < offered(context).max_copies
        self.show(
            items=[
                {
                    "type": item.certificate_type,
                    "copies": item.copies,
                    "fee": fee_of(context, item),
                    "options": item.options,
                }
                for item in items
            ],
            total=total,
            can_add=can_add,
        )
        while True:
            touch = await self.touch("next", "another")
            if (outcome := ending(touch)) is not None:
                return outcome
            if touch.action == "another" and not can_add:
                continue
            context.basket.append(choosing)
            context.choosing = None
            context.fee = total
            return Outcome.NEXT if touch.action == "next" else Outcome.ANOTHER
