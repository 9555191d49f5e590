"""The issuance center (証明書交付センター) and the servers behind it.

- the center itself: terminals and their signed requests (``terminals``, ``protocol``, ``signing``
  shared with the center's requests to the municipalities, ``bridge_protocol``, whose answers
  are ``bridge_messages``), sessions
  proved with the card (``service``, ``jpki_verify``), orders and fees (``orders``,
  ``settlement``), the service calendar, the audit log, public verification, its web layer
  (``app`` assembling the routers of ``api``; ``web_errors`` shared by the three servers) and its
  storage (``store``);
- the terminal's side of the link, which the kiosk imports and nothing else of the center:
  ``client``, ``messages``, ``protocol``, ``signing``, ``enrolment``, ``links``, ``tls``;
- ``center.municipal`` — a municipal issuance server (市区町村の証明書交付サーバ);
- ``center.authority`` — the JPKI authority simulator (地方公共団体情報システム機構の役割).

Imports of the project: ``documents`` and ``printing``. See ``docs/architecture.md``.
"""
