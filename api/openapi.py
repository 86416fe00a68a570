"""The error answers every client may get, written into the published OpenAPI schema by
rule, so each operation documents them without every route repeating them (and a new
route is documented the day it is added): 401 and 403 where the operation takes a
token, 404 where its path names something by id, 400 (unreadable) and 413 (too large)
where it takes a body, and 503
everywhere under /api/v1 (the database connection was lost: try again). Each is a JSON
``{"detail": ...}``: a message, or FastAPI's list of ``{loc, msg, type}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

ERROR = "Error"
ERROR_SCHEMA = {
    "title": ERROR,
    "type": "object",
    "properties": {"detail": {"anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "object"}},
    ]}},
    "required": ["detail"],
}
DESCRIPTIONS = {
    400: "the body could not be read (not UTF-8 text)",
    401: "no API token, or an unknown or revoked one",
    403: "the token's scope does not allow this",
    404: "nothing with this id",
    413: "the request body is larger than the server's limit",
    503: "the database connection was lost; try again in a moment",
}


def with_documented_errors(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """A replacement for ``app.openapi`` that adds the error answers to its schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_errors(generate())
        return app.openapi_schema  # type: ignore[return-value]

    return openapi


def document_errors(schema: dict[str, Any]) -> None:
    schema.setdefault("components", {}).setdefault("schemas", {})[ERROR] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/v1"):
            continue
        for operation in operations.values():
            codes = [503]
            if operation.get("security"):
                codes += [401, 403]
            if "{" in path:
                codes.append(404)
            if "requestBody" in operation:
                codes += [400, 413]
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                answer = responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
                answer.setdefault("content", {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{ERROR}"}}})
