"""The center operators' console (センター運用コンソール): a web application of its own, served on its
own TLS listener (``koufu center console``), never on the terminal API's port.

Who may use it are accounts made with ``koufu center add-operator`` (:mod:`.accounts`), each with a
role (:mod:`.roles`: operator, municipal staff of one municipality, auditor). A person registers a
passkey through a one-time enrolment link and signs in with it (WebAuthn, :mod:`.passkeys`); there
are no passwords. A signed-in browser holds a random session id in a Secure, HttpOnly,
SameSite=Strict cookie; the session is a row of the center's database with an idle timeout and an
absolute lifetime (:mod:`.sessions`). Every request a page serves passes one guard
(:mod:`.access`): signed in, the role allowed for the page and the method, and for every change the
session's CSRF token. Every change made through the console is a line of the center's audit log
naming who made it.

The pages (:mod:`.pages`) are server-rendered Jinja2 templates, Japanese or English. Adding a page
is one module in ``pages/`` and one template in ``templates/``.
"""

from __future__ import annotations
