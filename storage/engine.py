"""Engine and session setup for SQLite and PostgreSQL, and schema upgrades.

SQLite (a file) is the embedded default, PostgreSQL the production store. Both get
proper transactions from :func:`make_engine`:

* **SQLite.** pysqlite's own transaction handling is switched off (``isolation_level =
  None``) and SQLAlchemy emits ``BEGIN`` itself (the recipe from SQLAlchemy's pysqlite
  documentation), so that a transaction starts at the first statement, reads included.
  A connection with the execution option ``sqlite_immediate=True`` starts with
  ``BEGIN IMMEDIATE`` instead: it takes the database's write lock at once, so two
  writers serialise from their first read (the second waits up to ``busy_timeout``)
  instead of both reading and one failing with "database is locked" when it upgrades
  its read lock. WAL journal mode lets readers run while a writer writes.
* **PostgreSQL.** psycopg 3, ``pool_pre_ping`` so a restarted server does not hand out
  dead connections; writers lock rows with ``SELECT … FOR UPDATE`` (see
  :mod:`storage.evaluations`). The default READ COMMITTED isolation is assumed.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0

# Key of the PostgreSQL advisory lock held while migrating (any fixed 64-bit number).
_MIGRATION_LOCK_KEY = zlib.crc32(b"mofront.storage.upgrade")


def database_url(value: str) -> str:
    """Normalise what a user passes as ``--db`` into an SQLAlchemy URL.

    A bare file path becomes ``sqlite:///<absolute path>``; ``postgresql://`` and
    ``postgres://`` URLs get the psycopg 3 driver (``postgresql+psycopg://``); any
    other URL (``sqlite:///…``, ``postgresql+psycopg://…``) is returned unchanged.
    """
    value = value.strip()
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    scheme, rest = value.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return value


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (anything :func:`database_url` accepts) with the
    settings described in this module's docstring. Extra ``kwargs`` go to
    :func:`sqlalchemy.create_engine`."""
    url = database_url(url)
    backend = make_url(url).get_backend_name()
    # orjson: objective vectors and params are JSON; decoding them is most of a front query
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if backend == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        connect_args.update(kwargs.pop("connect_args", {}))
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    return create_engine(url, **kwargs)


def _json_dumps(value: Any) -> str:
    options = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    return orjson.dumps(value, option=options).decode()


def _configure_sqlite(engine: Engine) -> None:
    busy_timeout_ms = int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("sqlite_immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _enable_wal(cursor: Any) -> None:
    """Switch a SQLite file to WAL. The mode is stored in the file, so only the first
    connection ever changes it; two processes doing so at once can get SQLITE_BUSY
    without the busy handler being consulted, hence the retry with back-off."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    delay = 0.01
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (``expire_on_commit=False``),
    so a route can commit and then serialise what it wrote."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """An alembic :class:`Config` built in code, pointing at ``storage/migrations``
    (no ``alembic.ini`` needed on disk)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (alembic ``upgrade head`` by default).

    Safe to call on every server start: at head it does nothing. Two processes may
    call it at once: on PostgreSQL the migration runs in one transaction holding an
    advisory lock (``pg_advisory_xact_lock``), so the second waits, then finds the
    schema at head; on SQLite the transaction starts with ``BEGIN IMMEDIATE``, which
    serialises the two the same way.
    """
    if isinstance(url_or_engine, Engine):
        engine, owned = url_or_engine, False
    else:
        engine, owned = make_engine(url_or_engine), True
    try:
        config = alembic_config()
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection = connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                # env.py sees the connection already in a transaction and runs the
                # migrations inside it; leaving this block commits them.
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
    finally:
        if owned:
            engine.dispose()
