"""The FastAPI application: routers under ``/api/v1``, the viewer (``web/``) at ``/ui/``
with ``/`` redirecting there and Plotly.js served from the ``plotly`` package, and the
scheduler started and stopped with the server.

On start the store is migrated to the current schema (``storage.upgrade``), so a new
database, or one from an older version, needs no separate step.

Around the routes: API tokens (``api.auth``), request limits (``api.limits``), a
latency histogram and a log record per request (``api.observability``), a 503 when
the database connection was lost under a request, and the error answers written into
the OpenAPI schema (``api.openapi``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DBAPIError

from api.auth import READ
from api.limits import BodySizeLimit
from api.observability import RequestObserver
from api.openapi import with_documented_errors
from api.routes import (
    asktell,
    campaigns,
    evaluations,
    fronts,
    health,
    quality,
    registry,
    samplers,
    surrogate,
)
from api.settings import Settings
from jobs.executors import Executor
from jobs.executors.local import LocalExecutor, visible_gpu_ids
from jobs.scheduler import Scheduler
from jobs.spec import explain
from storage import database_url, make_engine, make_sessionmaker, upgrade
from storage.retry import connection_lost

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings.database_url)
        engine = make_engine(url)
        upgrade(engine)
        app.state.sessions = make_sessionmaker(engine)
        # Sessions that read and then write take SQLite's write lock at BEGIN, so they
        # wait for other writers instead of failing with 'database is locked' midway.
        app.state.write_sessions = make_sessionmaker(
            engine.execution_options(sqlite_immediate=True)
        )
        app.state.scheduler = None
        if settings.run_scheduler:
            app.state.scheduler = _scheduler(settings, url, app)
            app.state.scheduler.start()
        try:
            yield
        finally:
            if app.state.scheduler is not None:
                app.state.scheduler.shutdown()
            engine.dispose()

    app = FastAPI(
        title="mofront",
        summary="Multi-objective optimisation campaigns and their Pareto fronts",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.openapi = with_documented_errors(app)  # type: ignore[method-assign]
    app.state.request_metrics = CollectorRegistry()
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestObserver, registry=app.state.request_metrics)  # outermost
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(DBAPIError)(_database_unavailable)
    # Every route under /api/v1 needs a token of scope read at least (api.auth); routes
    # that write ask for more themselves. Only liveness is open.
    for router in (campaigns.router, asktell.router, evaluations.router, fronts.router,
                   quality.router, surrogate.router, samplers.router, registry.router):
        app.include_router(router, prefix="/api/v1", dependencies=[READ])
    app.include_router(health.router, prefix="/api/v1")
    app.get("/healthz", include_in_schema=False)(health.healthz)
    app.get("/metrics", include_in_schema=False, dependencies=[READ])(health.metrics)
    if WEB_DIR.is_dir():
        # Before the mount, which would otherwise answer every path under /ui.
        app.get("/ui/vendor/plotly.min.js", include_in_schema=False)(plotly_js)
        app.mount("/ui", StaticFiles(directory=WEB_DIR, html=True), name="web")

        @app.get("/", include_in_schema=False)
        def viewer() -> RedirectResponse:
            return RedirectResponse("/ui/")

    return app


def plotly_js() -> FileResponse:
    """Plotly.js for the viewer, from the installed ``plotly`` Python package (no CDN:
    the viewer works offline)."""
    bundle = _plotly_bundle()
    if bundle is None:
        raise HTTPException(404, "Plotly.js is missing: install the 'plotly' Python package")
    return FileResponse(bundle, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


def _plotly_bundle() -> Path | None:
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        return None
    bundle = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    return bundle if bundle.is_file() else None


def _scheduler(settings: Settings, url: str, app: FastAPI) -> Scheduler:
    return Scheduler(
        app.state.write_sessions,
        _executor(settings, url),
        poll_seconds=settings.poll_seconds,
        heartbeat_timeout=settings.heartbeat_timeout,
    )


def _executor(settings: Settings, url: str) -> Executor:
    if settings.executor == "ray":
        from jobs.executors.ray import RayExecutor  # imports ray: only when asked for

        return RayExecutor(url, settings.ray_address, max_campaigns=settings.workers)
    if settings.executor != "local":
        raise ValueError(f"unknown executor {settings.executor!r}; known: local, ray")
    gpu_ids = visible_gpu_ids()
    workers = settings.workers or max(1, len(gpu_ids))
    return LocalExecutor(url, workers=workers, gpu_ids=gpu_ids, log_dir=settings.log_dir,
                         spare=settings.spare_worker)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After when the database connection was lost under a request (a
    PostgreSQL restart): the client may simply try again. Any other database error is
    a bug, and stays a 500."""
    if not connection_lost(exc):
        raise exc
    return JSONResponse(status_code=503, headers={"Retry-After": "1"}, content={
        "detail": "the database connection was lost; try again in a moment"})


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, with 'unknown field' messages that list the allowed fields."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        loc = list(error.get("loc", ()))
        if loc[:1] == ["body"] and error.get("type") == "extra_forbidden":
            error = {**error, "msg": explain({**error, "loc": loc[1:]})}
        errors.append({key: error[key] for key in ("loc", "msg", "type") if key in error})
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})
