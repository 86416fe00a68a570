"""Artifacts: content-addressed blobs (policy weights, shared networks…).

Storing the same bytes twice returns the existing row (matched by sha256 and size),
so a PD-MORL universal network recorded with every policy is kept once. Two
processes storing the same new bytes at the same moment may each insert a row; both
rows hold the right bytes, so this is harmless and not locked against.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Artifact


def store_artifact(
    session: Session, data: bytes, content_type: str = "application/octet-stream"
) -> Artifact:
    """Store ``data`` (or find the identical blob already stored) and return its row,
    flushed so ``id`` is set; the caller commits."""
    data = bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalars(
        select(Artifact)
        .where(Artifact.sha256 == digest, Artifact.size == len(data))
        .order_by(Artifact.id)
        .limit(1)
    ).first()
    if existing is not None:
        # Same bytes: hand them over without reading the blob back.
        set_committed_value(existing, "data", data)
        return existing
    artifact = Artifact(sha256=digest, size=len(data), content_type=content_type, data=data)
    session.add(artifact)
    session.flush()
    return artifact


def get_artifact(session: Session, artifact_id: int) -> Artifact | None:
    """The artifact with this id, its bytes loaded, or None."""
    return session.get(Artifact, artifact_id, options=[undefer(Artifact.data)])
