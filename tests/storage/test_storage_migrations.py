"""The alembic migrations build exactly the schema of ``storage.models``; upgrading is
idempotent and safe from two processes at once; URLs are normalised."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

from storage import Base, database_url, make_engine, upgrade
from storage.engine import alembic_config

REPO = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [row[0] for row in versions] == [HEAD]
    tables = set(inspect(engine).get_table_names())
    assert {"campaigns", "evaluations", "artifacts", "metric_snapshots", "checkpoints"} <= tables


def test_partial_front_index_exists(engine: Engine) -> None:
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("evaluations")}
    assert indexes["ix_evaluations_front"]["column_names"] == ["campaign_id", "seq"]


def test_two_processes_upgrade_at_once(store_url: str) -> None:
    script = "import sys; from storage import upgrade; upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen([sys.executable, "-c", script, store_url], cwd=REPO, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [row[0] for row in versions] == [HEAD]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_normalises_urls(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_database_url_turns_a_path_into_an_absolute_sqlite_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_url("runs/mofront.db") == f"sqlite:///{tmp_path / 'runs' / 'mofront.db'}"


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "settings.db"))
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragma == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 30000,
            "synchronous": 1,  # NORMAL
        }
    finally:
        engine.dispose()


def test_sqlite_transactions_begin_immediate_on_request(tmp_path: Path) -> None:
    """A connection opened with ``sqlite_immediate`` holds the write lock from its first
    statement (a read), so another writer cannot write until it commits."""
    url = str(tmp_path / "locks.db")
    first_engine = make_engine(url)
    second_engine = make_engine(url, connect_args={"timeout": 0.1})
    try:
        with first_engine.connect() as setup:
            setup.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            setup.commit()
        with first_engine.connect().execution_options(sqlite_immediate=True) as first:
            first.exec_driver_sql("SELECT count(*) FROM t")  # BEGIN IMMEDIATE happens here
            with second_engine.connect() as second:
                second.exec_driver_sql("PRAGMA busy_timeout=100")
                with pytest.raises(OperationalError, match="locked"):
                    second.exec_driver_sql("INSERT INTO t VALUES (1)")
                second.rollback()
            first.commit()
        with second_engine.connect() as second:  # the lock is gone with the commit
            second.exec_driver_sql("INSERT INTO t VALUES (1)")
            second.commit()
    finally:
        first_engine.dispose()
        second_engine.dispose()
