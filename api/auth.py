"""Who may call which route: API tokens sent as ``Authorization: Bearer <secret>``.

A token has one scope; ``admin`` grants everything ``submit`` grants, which grants
everything ``read`` grants. Routes state what they need with a dependency:
``app.py`` gives every router under ``/api/v1`` :data:`READ`; routes that write add
:data:`SUBMIT` (submit, cancel, ask, tell) or :data:`ADMIN` (delete). Liveness
(``/healthz``) needs nothing.

Tokens are enforced when the server requires them (``Settings.require_token``, set
by ``mofront serve`` when it binds to a non-loopback address) or as soon as any
active token exists in the store. With neither, on the loopback address, the API is
open as it always was. A token that is sent is always checked, so a typo'd or
revoked token fails loudly (401) rather than working by accident on an open server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage import TOKEN_SCOPES, find_token, tokens_exist

bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`mofront token create --scope read|submit|admin`).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

HOW_TO_GET_ONE = ("send 'Authorization: Bearer <token>'; an administrator creates one "
                  "with `mofront token create --scope read|submit|admin`")


def grants(scope: str, needed: str) -> bool:
    return TOKEN_SCOPES.index(scope) >= TOKEN_SCOPES.index(needed)


def require(needed: str) -> Callable[[Request, HTTPAuthorizationCredentials | None], None]:
    """A dependency that refuses the request unless it carries a token granting
    ``needed`` (401: missing, unknown or revoked token; 403: too narrow a scope)."""
    if needed not in TOKEN_SCOPES:
        raise ValueError(f"unknown scope {needed!r}; allowed: {', '.join(TOKEN_SCOPES)}")

    def check(request: Request, credentials: Credentials) -> None:
        scope = _caller_scope(request, credentials)
        if scope is not None and not grants(scope, needed):
            raise HTTPException(403, (
                f"this token's scope is {scope!r}; {request.method} "
                f"{request.url.path} needs {needed!r}"))

    return check


def _caller_scope(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The scope of the request's token, None on an open server without one. Looked up
    once per request (a route may need two dependencies of this module)."""
    if hasattr(request.state, "token_scope"):
        return request.state.token_scope  # type: ignore[no-any-return]
    with request.app.state.sessions() as session:
        if credentials is None:
            if request.app.state.settings.require_token or tokens_exist(session):
                raise _unauthorized(f"this server requires an API token: {HOW_TO_GET_ONE}")
            scope = None
        else:
            token = find_token(session, credentials.credentials)
            if token is None:
                raise _unauthorized(f"the API token is unknown or revoked: {HOW_TO_GET_ONE}")
            scope = token.scope
    request.state.token_scope = scope
    return scope


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


READ = Depends(require("read"))
SUBMIT = Depends(require("submit"))
ADMIN = Depends(require("admin"))
