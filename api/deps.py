"""FastAPI dependencies: a database session per request, and lookups that 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session

from storage import get_campaign


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """A session for a request that writes (see ``api.app``: BEGIN IMMEDIATE on SQLite)."""
    with request.app.state.write_sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
CampaignId = Annotated[int, Path(ge=1, le=2**62)]


def campaign_or_404(session: SessionDep, campaign_id: CampaignId) -> Any:
    return existing_campaign(session, campaign_id)


def existing_campaign(session: Session, campaign_id: int) -> Any:
    campaign = get_campaign(session, campaign_id)
    if campaign is None:
        raise HTTPException(404, f"campaign {campaign_id} does not exist")
    return campaign


CampaignDep = Annotated[Any, Depends(campaign_or_404)]
