"""Choosing: the certificate, its options, the copies, then the content and fee confirmed.

What can be chosen is what the center and the municipality offered at the PIN step (fees,
copies, what can be issued now and why not; the household's members and the tax years, opened
from the part sealed to this terminal).

Views:

- certificate_type: ``{"certificates": [{"type", "fee", "available", "reason"}], "basket": n,
  "refusal": {...} | None}`` — ``Touch("choose", "resident_record")``.
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

from kiosk.workflow.context import Chosen, SessionContext
from kiosk.workflow.states.base import State, ending
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


def fee_of(context: SessionContext, chosen: Chosen) -> int:
    fee: int = context.offers["certificates"][chosen.certificate_type]["fee"]
    return fee * chosen.copies


def copies_in(context: SessionContext) -> int:
    return sum(chosen.copies for chosen in context.basket)


class CertificateType(State):
    step = Step.CERTIFICATE_TYPE

    async def run(self, context: SessionContext) -> Outcome:
        offered = context.offers["certificates"]
        listed = [
            {"type": kind, "fee": offered[kind]["fee"], "available": offered[kind]["available"],
             "reason": offered[kind]["reason"]}
            for kind in CERTIFICATES[context.whose] if kind in offered
        ]
        self.show(certificates=listed, basket=len(context.basket), refusal=context.refusal)
        while True:
            touch = await self.touch("choose")
            if touch.action != "choose":
                return Outcome.CANCEL
            if any(item["type"] == touch.value and item["available"] for item in listed):
                context.refusal = None
                context.choosing = Chosen(touch.value, default_options(touch.value, context))
                return Outcome.NO_OPTIONS if touch.value in NO_OPTIONS else Outcome.NEXT


def default_options(kind: str, context: SessionContext) -> dict[str, Any]:
    """What a resident choosing only for themselves gets (what the offer was checked with)."""
    personal = context.offers["personal"]
    if kind in RESIDENT_RECORDS:
        holder = [m["member"] for m in personal["household"] if m["holder"]]
        return {"members": holder, **dict.fromkeys(RECORD_FLAGS, False)}
    if kind == "tax":
        return {"kind": personal["tax_kinds"][0] if personal["tax_kinds"] else None,
                "tax_year": personal["tax_years"][0] if personal["tax_years"] else None}
    if kind == "family_register":
        return {"scope": "individual"}
    if kind == "family_register_attachment":
        return {"domicile": False}
    return {}


class Options(State):
    step = Step.OPTIONS

    async def run(self, context: SessionContext) -> Outcome:
        chosen = context.choosing
        assert chosen is not None
        personal = context.offers["personal"]
        options = chosen.options
        while True:
            self.show(certificate_type=chosen.certificate_type, **self._view(options, personal))
            touch = await self.touch("member", "flag", "tax_kind", "tax_year", "scope", "next")
            if (outcome := ending(touch)) is not None:
                return outcome
            if touch.action == "next" and self._complete(options):
                return Outcome.NEXT
            self._apply(touch.action, touch.value, options, personal)

    @staticmethod
    def _flags(personal: dict[str, Any]) -> tuple[str, ...]:
        return RECORD_FLAGS if personal.get("my_number") else RECORD_FLAGS[:2]

    def _view(self, options: dict[str, Any], personal: dict[str, Any]) -> dict[str, Any]:
        if "members" in options:
            return {
                "members": [{**member, "chosen": member["member"] in options["members"]}
                            for member in personal["household"]],
                "flags": {flag: options[flag] for flag in self._flags(personal)},
            }
        if "tax_year" in options:
            return {"tax_kinds": personal["tax_kinds"], "tax_kind": options["kind"],
                    "tax_years": personal["tax_years"], "tax_year": options["tax_year"]}
        if "scope" in options:
            return {"scopes": list(SCOPES), "scope": options["scope"]}
        return {"flags": {"domicile": options.get("domicile", False)}}

    def _apply(self, action: str, value: Any, options: dict[str, Any], personal: dict[str, Any]) -> None:
        if action == "member" and "members" in options:
            if any(m["member"] == value for m in personal["household"]):
                members: list[int] = options["members"]
                if value in members:
                    members.remove(value)
                else:
                    members.append(value)
                    members.sort()
        elif action == "flag" and value in options and isinstance(options[value], bool):
            if "members" not in options or value in self._flags(personal):
                options[value] = not options[value]
        elif action == "tax_kind" and value in personal.get("tax_kinds", ()) and "kind" in options:
            options["kind"] = value
        elif action == "tax_year" and value in personal.get("tax_years", ()) and "tax_year" in options:
            options["tax_year"] = value
        elif action == "scope" and value in SCOPES and "scope" in options:
            options["scope"] = value

    @staticmethod
    def _complete(options: dict[str, Any]) -> bool:
        if "members" in options:
            return bool(options["members"])
        return all(value is not None for value in options.values())


class Copies(State):
    step = Step.COPIES

    async def run(self, context: SessionContext) -> Outcome:
        chosen = context.choosing
        assert chosen is not None
        offered = context.offers["certificates"][chosen.certificate_type]
        most = max(1, min(offered["max_copies"], context.offers["max_copies"] - copies_in(context)))
        chosen.copies = min(chosen.copies, most)
        while True:
            self.show(copies=chosen.copies, most=most, fee=fee_of(context, chosen))
            touch = await self.touch("more", "less", "next")
            if (outcome := ending(touch)) is not None:
                return outcome
            if touch.action == "next":
                return Outcome.NEXT
            step = 1 if touch.action == "more" else -1
            chosen.copies = min(most, max(1, chosen.copies + step))


class Confirm(State):
    step = Step.CONFIRM

    async def run(self, context: SessionContext) -> Outcome:
        chosen = context.choosing
        assert chosen is not None
        items = [*context.basket, chosen]
        total = sum(fee_of(context, item) for item in items)
        can_add = copies_in(context) + chosen.copies < context.offers["max_copies"]
        self.show(
            items=[{"type": item.certificate_type, "copies": item.copies, "fee": fee_of(context, item),
                    "options": item.options} for item in items],
            total=total, can_add=can_add,
        )
        while True:
            touch = await self.touch("next", "another")
            if (outcome := ending(touch)) is not None:
                return outcome
            if touch.action == "another" and not can_add:
                continue
            context.basket.append(chosen)
            context.choosing = None
            context.fee = total
            return Outcome.NEXT if touch.action == "next" else Outcome.ANOTHER
