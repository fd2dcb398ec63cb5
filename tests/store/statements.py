"""The SQL a piece of code sends, to read its query plans in tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

Statement = tuple[str, Any]


def executed(conn: Connection, run: Callable[[Connection], object]) -> list[Statement]:
    """Every statement ``run`` executes on ``conn``, with its parameters, in order."""
    statements: list[Statement] = []

    def seen(_c: object, _cur: object, sql: str, params: Any, *_: object) -> None:
        statements.append((sql, params))

    sa.event.listen(conn, "before_cursor_execute", seen)
    try:
        run(conn)
    finally:
        sa.event.remove(conn, "before_cursor_execute", seen)
    return statements
