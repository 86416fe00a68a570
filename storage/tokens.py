"""API tokens: create (the secret is returned once, only its SHA-256 is stored), list,
revoke, and look up by secret. Which scope a route needs is the API's business
(:mod:`api.auth`); the store only keeps the tokens.

Secrets are 256 random bits (``secrets.token_urlsafe``), so a plain SHA-256 is enough:
there is nothing to brute-force that a slow password hash would protect. Lookups are
by the hash, so comparing secrets never happens in Python and leaks no timing.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import TOKEN_SCOPES, ApiToken, utcnow

SECRET_PREFIX = "mft_"


def create_token(session: Session, scope: str, name: str = "") -> tuple[ApiToken, str]:
    """A new token with ``scope`` and its secret (flushed; the caller commits). The
    secret cannot be read back later: show it now."""
    if scope not in TOKEN_SCOPES:
        raise ValueError(f"scope {scope!r} is unknown; allowed: {', '.join(TOKEN_SCOPES)}")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name[:200], scope=scope, secret_sha256=_digest(secret),
                     prefix=secret[: len(SECRET_PREFIX) + 6])
    session.add(token)
    session.flush()
    return token, secret


def find_token(session: Session, secret: str) -> ApiToken | None:
    """The active (not revoked) token whose secret this is, or None."""
    return session.scalars(
        select(ApiToken).where(ApiToken.secret_sha256 == _digest(secret),
                               ApiToken.revoked_at.is_(None))
    ).first()


def tokens_exist(session: Session) -> bool:
    """Whether any active token exists (then the API requires one)."""
    return session.scalars(
        select(ApiToken.id).where(ApiToken.revoked_at.is_(None)).limit(1)
    ).first() is not None


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)).all())


def revoke_token(session: Session, token_id: int) -> ApiToken | None:
    """Revoke the token (idempotent); None when there is no such token. The caller commits."""
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
