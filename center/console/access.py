"""The one guard every console request passes (認可): who is asking, whether their role may read
or change through this page, and, for a change, whether it comes from the console's own origin
with the session's CSRF token.

- Signed out: :class:`SignedOut` (a browser is sent to the sign-in page; a script gets 401).
- A role the page does not admit for the method: :class:`NotAllowed` (403). An auditor is refused
  every change, whatever a page declares (:func:`center.console.roles.may_change`).
- A change (any method but GET and HEAD) without the session's CSRF token (the form's ``csrf``
  field or the ``X-CSRF-Token`` header), or whose ``Origin`` is not the console's:
  :class:`CsrfRefused` (403). The signed-out ceremonies (sign-in, enrolment) check the origin and
  take only JSON, which another site's page cannot send without the console's consent (CORS).

GET and HEAD change nothing (a request only moves its session's last-seen time).

The viewer is kept in ``request.state.viewer`` before the change's checks, so that a refusal of
a signed-in account's request can be audited with its actor (:mod:`center.console.tampering`).
"""

from __future__ import annotations

import secrets

from starlette.requests import Request

from center.console.errors import CsrfRefused, NotAllowed
from center.console.page import Page
from center.console.roles import Viewer, may_change
from center.console.sessions import COOKIE, Sessions

SAFE_METHODS = frozenset({"GET", "HEAD"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"


class Guard:
    def __init__(self, sessions: Sessions, origin: str) -> None:
        self.sessions = sessions
        self.origin = origin

    async def signed_in(self, request: Request) -> Viewer:
        """The request's viewer; for a change, its origin and CSRF token checked too."""
        viewer = await self.sessions.viewer(request.cookies.get(COOKIE))
        request.state.viewer = viewer
        if request.method not in SAFE_METHODS:
            self.same_origin(request)
            await self._csrf(request, viewer)
        return viewer

    async def admit(self, request: Request, page: Page) -> Viewer:
        """The viewer, if their role may read ``page`` (GET, HEAD) or change through it."""
        viewer = await self.signed_in(request)
        if request.method in SAFE_METHODS:
            allowed = viewer.role in page.readers
        else:
            allowed = viewer.role in page.changers and may_change(viewer.role)
        if not allowed:
            raise NotAllowed("not_allowed", "your role may not do this")
        return viewer

    def same_origin(self, request: Request) -> None:
        """A change must say it comes from the console's own pages."""
        if request.headers.get("origin") != self.origin:
            raise CsrfRefused("cross_origin", "the request does not come from the console's pages")
        fetched = request.headers.get("sec-fetch-site")
        if fetched is not None and fetched not in ("same-origin", "none"):
            raise CsrfRefused("cross_origin", "the request does not come from the console's pages")

    async def _csrf(self, request: Request, viewer: Viewer) -> None:
        token = request.headers.get(CSRF_HEADER)
        if token is None and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            field = (await request.form()).get(CSRF_FIELD)
            token = field if isinstance(field, str) else None
        if token is None or not secrets.compare_digest(token.encode(), viewer.csrf.encode()):
            raise CsrfRefused("csrf_refused", "the change lacks this session's CSRF token")
