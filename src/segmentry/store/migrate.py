"""Bringing a database's schema to the newest migration (Alembic, run in-process)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("segmentry.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Upgrade in place to head; a database already at head is left untouched."""
    with engine.connect() as conn:
        if current(conn) == head():
            return
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
