"""The center's HTTP API for terminals, one router per resource (translation only: the logic is in
``service.py`` and ``orders.py``); ``center/app.py`` assembles them.

- ``operations.py``: liveness.
- ``sessions.py``: a resident's session (利用者セッション) and the card's proof.
- ``terminals.py``: a terminal's door and tamper alarms, and its heartbeat (死活監視).
- ``orders.py``: the offer, orders and their course (交付申請).
- ``municipalities.py``: the participating municipalities and their sealing keys (参加団体).
- ``registrations.py``: the registered domicile's usage registration (本籍地の利用登録) and the
  holder's issuance record (交付履歴), relayed sealed.
- ``verification.py``: the public question about a printed copy (真正性の確認).

What the routes share: ``signing.py`` (the terminal's signed request, one dependency),
``requests.py`` (the center's service, bodies and ids as the routes read them) and
``answers.py`` (JSON answers and refusals). Their bodies and answers are the models of
``center/messages.py``, which the terminal's client reads too.
"""
