"""Liveness (open to all) and Prometheus metrics (a read token, when tokens are enforced)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func, select, text

from api.auth import READ
from api.deps import SessionDep
from storage import Campaign

router = APIRouter(tags=["health"])

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/metrics", response_class=Response, dependencies=[READ])
def metrics(session: SessionDep, request: Request) -> Response:
    registry = CollectorRegistry()
    campaigns = Gauge("mofront_campaigns", "Campaigns by status", ["status"], registry=registry)
    counts = dict(
        session.execute(select(Campaign.status, func.count()).group_by(Campaign.status)).all()
    )
    for status in STATUSES:
        campaigns.labels(status).set(counts.get(status, 0))
    Gauge("mofront_queue_length", "Campaigns waiting for a worker", registry=registry).set(
        counts.get("queued", 0)
    )
    Gauge("mofront_evaluations_stored", "Evaluations stored", registry=registry).set(
        session.scalar(select(func.coalesce(func.sum(Campaign.n_evaluations), 0))) or 0
    )
    body = generate_latest(registry) + generate_latest(request.app.state.request_metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
