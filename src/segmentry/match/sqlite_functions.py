"""The functions SQLite lacks that the SQL evaluator's SQLite rendering calls,
given to each connection in Python (:func:`register_sqlite_functions`).

SQLite has no regular expressions of its own and no time zones; PostgreSQL has
both and needs none of this.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

from segmentry.match import anniversaries
from segmentry.rules import regex

SQLITE_REGEXP = "segmentry_regexp"
SQLITE_MONTH_DAY = "segmentry_month_day"


def register_sqlite_functions(connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the functions the SQL evaluator calls.

    SQLite has no regular expressions of its own; this one runs the same
    linear-time RE2 search as the Python evaluator. Nor has it time zones: the
    month-day of a moment in a zone is Python's.
    """
    connection.create_function(SQLITE_REGEXP, 2, _sqlite_regexp, deterministic=True)
    connection.create_function(SQLITE_MONTH_DAY, 2, _sqlite_month_day, deterministic=True)


def _sqlite_month_day(micros: int | None, zone: str | None) -> int | None:
    if micros is None or zone is None:
        return None
    return anniversaries.of_moment(micros, _zone(zone))


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _sqlite_regexp(pattern: str | None, value: str | None) -> int | None:
    if pattern is None or value is None:
        return None
    return int(_search(pattern)(value))


@functools.lru_cache(maxsize=512)
def _search(pattern: str) -> Any:
    return regex.compile_search(pattern)
