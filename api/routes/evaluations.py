"""Evaluations: a campaign's evaluations page by page, one evaluation, its artifact.

An artifact is served from the store by the evaluation's id only: nothing a request
sends is ever used as a file path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response

from api.deps import CampaignDep, SessionDep, SettingsDep
from api.limits import page_size
from api.schemas import EvaluationOut, EvaluationPage
from storage import get_artifact, get_evaluation, list_evaluations

router = APIRouter(tags=["evaluations"])

EvaluationId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/campaigns/{campaign_id}/evaluations", response_model=EvaluationPage)
def campaign_evaluations(
    campaign: CampaignDep,
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int | None, Query(
        ge=1, description="page size (default 100, at most MOFRONT_MAX_PAGE_SIZE)")] = None,
    offset: Annotated[int, Query(ge=0, le=10**12)] = 0,
    on_front: bool | None = None,
) -> EvaluationPage:
    limit = page_size(limit, 100, settings)
    items, total = list_evaluations(
        session, campaign.id, limit=limit, offset=offset, on_front=on_front
    )
    return EvaluationPage(items=[EvaluationOut.of(e) for e in items], total=total)


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationOut)
def evaluation(evaluation_id: EvaluationId, session: SessionDep) -> EvaluationOut:
    found = get_evaluation(session, evaluation_id)
    if found is None:
        raise HTTPException(404, f"evaluation {evaluation_id} does not exist")
    return EvaluationOut.of(found)


@router.get(
    "/evaluations/{evaluation_id}/artifact",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def artifact(evaluation_id: EvaluationId, session: SessionDep) -> Response:
    found = get_evaluation(session, evaluation_id)
    if found is None:
        raise HTTPException(404, f"evaluation {evaluation_id} does not exist")
    if found.artifact_id is None:
        raise HTTPException(404, f"evaluation {evaluation_id} has no artifact")
    blob = get_artifact(session, found.artifact_id)
    if blob is None:
        raise HTTPException(404, f"artifact {found.artifact_id} does not exist")
    filename = f"campaign-{found.campaign_id}-seq-{found.seq}-artifact-{blob.id}"
    return Response(
        content=blob.data,
        media_type=blob.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Artifact-Sha256": blob.sha256,
        },
    )
