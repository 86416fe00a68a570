"""Campaigns: submit, list, get, cancel, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.auth import ADMIN, SUBMIT
from api.deps import (
    CampaignDep,
    CampaignId,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
    existing_campaign,
)
from api.limits import check_campaign_limits, page_size
from api.schemas import CampaignOut, CampaignPage, Status
from jobs.spec import CampaignSpec, SpecError, resolve
from storage import create_campaign, delete_campaign, list_campaigns, request_cancel

router = APIRouter(tags=["campaigns"])

FINISHED = ("succeeded", "failed", "cancelled")


@router.post("/campaigns", status_code=201, response_model=CampaignOut, dependencies=[SUBMIT])
def submit(spec: CampaignSpec, session: WriteSessionDep, settings: SettingsDep,
           request: Request) -> CampaignOut:
    try:
        resolved = resolve(spec)
    except SpecError as exc:
        raise HTTPException(422, [{**e, "loc": ["body", *e["loc"]]} for e in exc.errors]) from None
    check_campaign_limits(resolved, settings)
    info = resolved.info
    driven_by_client = info.kind == "external"
    campaign = create_campaign(
        session,
        **resolved.campaign_row(),
        status="running" if driven_by_client else "queued",
        runs_on="client" if driven_by_client else "worker",
        started_at=datetime.now(UTC) if driven_by_client else None,
        code_version=_code_version(),
    )
    session.commit()
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None and not driven_by_client:
        scheduler.wake()  # launch it now rather than at the next poll
    return CampaignOut.of(campaign)


@router.get("/campaigns", response_model=CampaignPage)
def list_(
    session: SessionDep,
    settings: SettingsDep,
    status: Status | None = None,
    algorithm: Annotated[str | None, Query(max_length=64)] = None,
    problem: Annotated[str | None, Query(max_length=128, description="problem id")] = None,
    limit: Annotated[int | None, Query(
        ge=1, description="page size (default 50, at most MOFRONT_MAX_PAGE_SIZE)")] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> CampaignPage:
    limit = page_size(limit, 50, settings)
    items, total = list_campaigns(
        session, status=status, algorithm=algorithm, problem=problem, limit=limit, offset=offset
    )
    return CampaignPage(items=[CampaignOut.of(c) for c in items], total=total)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def get(campaign: CampaignDep) -> CampaignOut:
    return CampaignOut.of(campaign)


@router.post("/campaigns/{campaign_id}/cancel", response_model=CampaignOut,
             dependencies=[SUBMIT], responses={409: {"description": "already finished"}})
def cancel(campaign_id: CampaignId, session: WriteSessionDep) -> CampaignOut:
    campaign = existing_campaign(session, campaign_id)
    if campaign.status in FINISHED:
        raise HTTPException(409, f"campaign {campaign.id} already {campaign.status}")
    request_cancel(session, campaign.id)
    if campaign.runs_on == "client":  # no worker to notice: an ask/tell campaign stops now
        campaign.status = "cancelled"
        campaign.finished_at = datetime.now(UTC)
    session.commit()
    return CampaignOut.of(campaign)


@router.delete("/campaigns/{campaign_id}", status_code=204, dependencies=[ADMIN])
def delete(campaign_id: CampaignId, session: WriteSessionDep, request: Request) -> Response:
    campaign = existing_campaign(session, campaign_id)
    if campaign.status == "running":
        request_cancel(session, campaign.id)
        session.commit()
        scheduler = getattr(request.app.state, "scheduler", None)
        if scheduler is not None:
            scheduler.stop_campaign(campaign.id)
    delete_campaign(session, campaign_id)
    session.commit()
    return Response(status_code=204)


def _code_version() -> str:
    try:
        return version("mofront")
    except PackageNotFoundError:
        return "unknown"
