"""The console's pages as HTML: Jinja2 templates (``templates/``), autoescaped, in Japanese or
English. The language is ``?lang=ja|en`` (kept in a cookie from then on), else the cookie, else
the browser's first preference of the two, else Japanese. A template says its words in both
languages, ``{{ say("精算", "Settlement") }}``, and shows the chosen one; the page's ``lang`` is
that language, and a link switches to the other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from center.console.page import Page
from center.console.roles import Role, Viewer
from documents import JST

LANGUAGES = ("ja", "en")
LANGUAGE_COOKIE = "koufu-console-lang"
ROLE_WORDS = {
    Role.OPERATOR: ("センター運用者", "Operator"),
    Role.MUNICIPAL: ("市区町村職員", "Municipal staff"),
    Role.AUDITOR: ("監査人", "Auditor"),
}


def language(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "ja"


def yen(amount: int) -> str:
    return f"{amount:,}"


def jst(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S")


class Templates:
    def __init__(self) -> None:
        self.environment = jinja2.Environment(
            loader=jinja2.PackageLoader("center.console", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters["yen"] = yen
        self.environment.filters["jst"] = jst

    def render(
        self,
        request: Request,
        template: str,
        *,
        viewer: Viewer | None,
        pages: Sequence[Page] = (),
        current: Page | None = None,
        status: int = 200,
        context: Mapping[str, Any] | None = None,
    ) -> HTMLResponse:
        lang = language(request)
        other = "en" if lang == "ja" else "ja"

        def say(ja: str, en: str) -> str:
            return ja if lang == "ja" else en

        menu = [
            {"path": page.path, "title": page.title, "current": page is current}
            for page in sorted(pages, key=lambda page: page.order)
            if page.in_menu and viewer is not None and viewer.role in page.readers
        ]
        query = {key: value for key, value in request.query_params.items() if key != "lang"}
        switch = f"{request.url.path}?{urlencode({**query, 'lang': other})}"
        html = self.environment.get_template(template).render(
            lang=lang,
            other=other,
            say=say,
            viewer=viewer,
            role_words=ROLE_WORDS,
            menu=menu,
            current=current,
            switch=switch,
            **(context or {}),
        )
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE, lang, max_age=365 * 86400, secure=True, httponly=True, samesite="strict"
            )
        return response
