"""The server's limits on what one request may ask for (``Settings.max_*``, from
``MOFRONT_MAX_*``): request body size, page size, a campaign's number of objectives
and parameters, and its budget. Each is refused with a 4xx that names the field, the
limit and the setting that raises it, before anything is stored.

The body limit is an ASGI middleware: a declared ``Content-Length`` over the limit is
refused before the body is read; a body sent without one (chunked) is counted as it
arrives and refused as soon as it passes the limit, so it is never held in memory.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import Settings
from jobs.spec import ResolvedCampaign


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _send_413(send, self._message(declared.decode("latin-1")))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the route's body read: FastAPI answers it as a 413.
                    raise HTTPException(413, self._message(f"more than {received}"))
            return message

        await self.app(scope, counted, send)

    def _message(self, size: str) -> str:
        return (f"the request body ({size} bytes) is larger than this server's limit of "
                f"{self.max_bytes} bytes (MOFRONT_MAX_BODY_BYTES)")


async def _send_413(send: Send, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def page_size(limit: int | None, default: int, settings: Settings) -> int:
    """The page size asked for (refused over the server's largest page), or the route's
    default (never more than the largest page)."""
    if limit is None:
        return min(default, settings.max_page_size)
    if limit > settings.max_page_size:
        raise _field_error(["query", "limit"], (
            f"limit should be less than or equal to {settings.max_page_size}, this server's "
            f"largest page (MOFRONT_MAX_PAGE_SIZE); got {limit}: page on with offset"))
    return limit


def check_campaign_limits(resolved: ResolvedCampaign, settings: Settings) -> None:
    """Refuse a campaign larger than the server allows (objectives, parameters, budget)."""
    problem = resolved.spec.problem.parameters
    errors = []
    n_objectives = resolved.info.n_objectives
    if n_objectives > settings.max_objectives:
        errors.append(_error(_problem_loc(problem, "objectives", "num_objectives"), (
            f"the problem has {n_objectives} objectives; this server allows at most "
            f"{settings.max_objectives} (MOFRONT_MAX_OBJECTIVES)")))
    n_parameters = len(resolved.info.parameters)
    if n_parameters > settings.max_parameters:
        errors.append(_error(_problem_loc(problem, "parameters", "dim"), (
            f"the problem has {n_parameters} parameters; this server allows at most "
            f"{settings.max_parameters} (MOFRONT_MAX_PARAMETERS)")))
    budget = resolved.spec.budget
    ceiling = {"evaluations": settings.max_evaluations,
               "env_steps": settings.max_env_steps}[budget.unit]
    if budget.amount > ceiling:
        errors.append(_error(["body", "budget", budget.unit], (
            f"a budget of {budget.amount} {budget.unit.replace('_', ' ')} is over this "
            f"server's ceiling of {ceiling} (MOFRONT_MAX_{budget.unit.upper()})")))
    if errors:
        raise HTTPException(422, errors)


def _problem_loc(problem: dict[str, Any], *fields: str) -> list[Any]:
    """Where the spec says it: ``problem.<the first of fields given>``, else ``problem``."""
    given = [name for name in fields if name in problem]
    return ["body", "problem", *given[:1]]


def _error(loc: list[Any], message: str) -> dict[str, Any]:
    return {"loc": loc, "msg": message, "type": "limit_exceeded"}


def _field_error(loc: list[Any], message: str) -> HTTPException:
    return HTTPException(422, [_error(loc, message)])
