"""SQLite's write-ahead log reaches the database file off the writers' path: a thread
checkpoints after writes commit, and stops with the engine."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

from segmentry.engine.segmentry import Segmentry
from segmentry.store import checkpoints


def _checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "segmentry-checkpoint"]


def test_writes_reach_the_database_file_soon_after_they_commit(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    before = len(_checkpointers())
    with Segmentry(f"sqlite:///{path}") as segmentry:
        shop = segmentry.default_shop()
        shop.upsert("customer", "c1", {"email": "a@example.com", "orders_count": 3})
        shop.upsert("customer", "c2", {"email": "b@example.com", "orders_count": 1})
        checkpointer = checkpoints.of(segmentry.database)
        assert checkpointer is not None
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.checkpoints > 0, "no checkpoint within 10 s of the writes"
        # The database file alone, without its log, holds both writes.
        shutil.copyfile(path, tmp_path / "copy.db")
        copy = sqlite3.connect(tmp_path / "copy.db")
        ids = {row[0] for row in copy.execute("SELECT id FROM entities WHERE doc IS NOT NULL")}
        copy.close()
        assert ids == {"c1", "c2"}
        assert len(_checkpointers()) == before + 1
    assert len(_checkpointers()) == before, "the checkpoint thread outlived the engine"
