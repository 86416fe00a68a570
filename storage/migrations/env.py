"""Alembic environment for the mofront store.

Normally driven by :func:`storage.engine.upgrade`, which hands over an open connection
(already inside a transaction) in ``config.attributes["connection"]``. Run by the
``alembic`` command line instead (``alembic -c storage/alembic.ini …``), it connects to
``sqlalchemy.url`` from the config, or to ``$MOFRONT_DB``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.engine import database_url, make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things in place; batch mode recreates the table.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("MOFRONT_DB")
    if not url:
        raise RuntimeError("no database: set sqlalchemy.url in the alembic config or $MOFRONT_DB")
    return database_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
