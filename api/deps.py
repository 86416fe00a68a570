"""FastAPI dependencies: a database session per request, the server's settings, and
lookups that 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session

from api.settings import Settings
from storage import get_campaign


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """A session for a request that writes (see ``api.app``: BEGIN IMMEDIATE on SQLite)."""
    with request.app.state.write_sessions() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
MAX_ID = 2**62  # ids above this are refused before any query (SQLite integers are 64-bit)
CampaignId = Annotated[int, Path(ge=1, le=MAX_ID)]


def campaign_or_404(session: SessionDep, campaign_id: CampaignId) -> Any:
    return existing_campaign(session, campaign_id)


def existing_campaign(session: Session, campaign_id: int) -> Any:
    campaign = get_campaign(session, campaign_id)
    if campaign is None:
        raise HTTPException(404, f"campaign {campaign_id} does not exist")
    return campaign


CampaignDep = Annotated[Any, Depends(campaign_or_404)]
