"""Running the command line against real SQLite files, as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from segmentry.cli.main import app
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop


@dataclass
class Cli:
    """``segmentry ARGS --db URL``; fails the test on any traceback."""

    db: str
    runner: CliRunner

    def __call__(self, *args: str) -> Result:
        result = self.runner.invoke(app, [*args, "--db", self.db], env={"COLUMNS": "200"})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"segmentry {' '.join(args)} raised") from result.exception
        return result


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
def cli(db: str) -> Cli:
    return Cli(db, CliRunner())


@pytest.fixture
def shop(db: str) -> Iterator[Shop]:
    """The first tenant's shop of the same file, to set up and check through the library."""
    with Segmentry(db) as segmentry:
        yield segmentry.default_shop()
