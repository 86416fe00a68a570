"""What the server tells its operators about requests: a latency histogram per route
for Prometheus (``mofront_request_seconds``, scraped with the store's gauges at
``/metrics``, see :mod:`api.routes.health`) and one structured log record per request
(logger ``mofront.http``: method, route, status, duration, and the campaign id when
the path names one; see :mod:`jobs.logs` for the format).

A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` would run the route in a
task group and wrap what it raises (a 413 from reading the body, see
:mod:`api.limits`) in an ExceptionGroup.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("mofront.http")


class RequestObserver:
    def __init__(self, app: ASGIApp, registry: CollectorRegistry):
        self.app = app
        self.latency = Histogram("mofront_request_seconds", "HTTP request latency",
                                 ["method", "route", "status"], registry=registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: the app raised

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.latency.labels(scope["method"], route, str(status)).observe(seconds)
            campaign_id = str(scope.get("path_params", {}).get("campaign_id", ""))
            log.info("%s %s %s", scope["method"], scope["path"], status, extra={
                "method": scope["method"], "path": scope["path"], "route": route,
                "status": status, "duration_ms": round(seconds * 1000, 3),
                "campaign_id": int(campaign_id) if campaign_id.isascii()
                and campaign_id.isdigit() else None})


def route_template(scope: Scope) -> str:
    """The path template the request matched (``/api/v1/campaigns/{campaign_id}``), so
    the metric has one series per route, not per campaign ("unmatched" for the viewer's
    static files and unknown paths). FastAPI >= 0.16x sets the
    route as declared in its router, without the prefix it was included under: the
    prefix is then the request path's leading segments (each path parameter matches
    exactly one segment)."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        return "unmatched"
    extra = scope["path"].rstrip("/").count("/") - template.rstrip("/").count("/")
    prefix = "/".join(scope["path"].split("/")[: extra + 1]) if extra > 0 else ""
    return prefix + str(template)
