"""Fixtures for the store tests: every test runs on a real SQLite file and on real
PostgreSQL (a fresh schema per test in the ``$MOFRONT_TEST_PG`` database, dropped
afterwards), migrated with ``storage.upgrade``. The PostgreSQL cases skip, saying why,
where no server is reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import Campaign, create_campaign, make_engine, make_sessionmaker, upgrade
from storage.engine import database_url
from tests.storage.store_helpers import campaign_fields

PG_URL = database_url(os.environ.get("MOFRONT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))

_pg_unreachable: list[str | None] = []


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can (checked once)."""
    if not _pg_unreachable:
        import psycopg

        try:
            with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
                _pg_unreachable.append(None)
        except (ImportError, OSError, psycopg.Error) as error:
            _pg_unreachable.append(f"PostgreSQL not reachable at {PG_URL} ($MOFRONT_TEST_PG): {error}")
    return _pg_unreachable[0]


def fresh_postgres_schema() -> tuple[str, Callable[[], None]]:
    """Create an empty schema and return a URL whose connections use it, and a drop."""
    import psycopg

    schema = f"storage_test_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    reason = postgres_unreachable()
    if reason is not None:
        pytest.skip(reason)
    url, drop = fresh_postgres_schema()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An engine on a store migrated to head."""
    engine = make_engine(store_url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def new_campaign(sessions: sessionmaker[Session]) -> Callable[..., int]:
    """Create and commit a campaign (``senses=[...]`` sets the objectives); returns its id."""

    def make(**overrides: Any) -> int:
        with sessions() as session:
            campaign: Campaign = create_campaign(session, **campaign_fields(**overrides))
            session.commit()
            return campaign.id

    return make
