"""A route FastAPI calls as plainly as Starlette would: for the one request every terminal sends
every 30 seconds (``POST /v1/heartbeats``), thousands a second.

FastAPI solves a route's dependencies for each request (inspecting them, building their values),
then validates and serialises. A :class:`PlainRoute`'s endpoint takes the request and the center's
service, reads the body and answers a ``Response`` itself, so none of that runs; its declaration
is the usual one (``request: Request, service: Center``, ``response_model``, ``openapi_extra``),
so the OpenAPI description is the same, and its refusals are answered by the application's
handlers like any route's.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from fastapi import Request, Response
from fastapi.routing import APIRoute

from center.api.requests import center_service
from center.service import CenterService

PlainEndpoint = Callable[[Request, CenterService], Awaitable[Response]]


class PlainRoute(APIRoute):
    """Its endpoint is called with the request and the center's service, nothing else."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        parameters = list(inspect.signature(endpoint).parameters)
        if len(parameters) != 2 or options.get("dependencies"):
            raise TypeError("a plain route's endpoint takes the request and the service, and nothing else")
        super().__init__(path, endpoint, **options)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = cast(PlainEndpoint, self.endpoint)

        async def handle(request: Request) -> Response:
            return await endpoint(request, await center_service(request))

        return handle
