"""Printed certificates (証明書の印刷): the signed code every page carries, rendering to pages,
and checking a printed page. No UI or web framework here."""
