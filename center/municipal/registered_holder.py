"""The usage registration a proven card holder is known by (本籍地の利用登録の照合).

A registration is found by the serial of the card's certificate; a renewed card (更新, or a new
card after a lost one) has a new serial, and the authority's checked revocation answer states the
serials it replaced (:attr:`~center.municipal.holder_proof.ProvenHolder.previous_serials`, newest
first). The first of those a live registration is known by is the holder's: the new serial is
linked to it (:meth:`~center.municipal.registrations.Registrations.add_serial`), and a
registration suspended because the old card was revoked is resumed, as the card it was suspended
for has a valid successor.
"""

from __future__ import annotations

from center.municipal.holder_proof import ProvenHolder
from center.municipal.registrations import Registration, Registrations, Status


def registration_of(registrations: Registrations, proven: ProvenHolder) -> Registration | None:
    """The live registration of ``proven``'s card, or of the card it renewed (then linked to the
    new serial, and resumed if suspended); ``None`` when there is none."""
    found = registrations.for_serial(proven.serial)
    if found is not None:
        return found
    for previous in proven.previous_serials:
        earlier = registrations.for_serial(previous)
        if earlier is None or earlier.status is Status.DENIED:
            continue
        registrations.add_serial(earlier.id, proven.serial)
        if earlier.status is Status.SUSPENDED:
            return registrations.resume(earlier.id)
        return registrations.get(earlier.id)
    return None
