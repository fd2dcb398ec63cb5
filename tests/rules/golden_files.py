"""Reading the golden fixture files of tests/rules/golden."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from segmentry.model.schema import SEGMENTED_KINDS, Kind, Schema, declare
from segmentry.model.temporal import EvalContext
from segmentry.model.values import Record, encode, validate
from segmentry.rules.check import SegmentInfo

GOLDEN = Path(__file__).parent / "golden"


@dataclass
class Case:
    """One block of a golden file: ``key: value`` lines, a rule possibly spanning lines."""

    file: str
    line: int
    fields: dict[str, list[str]] = field(default_factory=dict)

    def one(self, key: str, default: str = "") -> str:
        return self.fields.get(key, [default])[0]

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def read_cases(name: str) -> list[Case]:
    cases: list[Case] = []
    current: Case | None = None
    last_key = ""
    for number, line in enumerate((GOLDEN / name).read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            current = None if not line.strip() else current
            continue
        if line.startswith(" ") and current is not None:
            current.fields[last_key][-1] += "\n" + line  # a continued rule
            continue
        key, _, value = line.partition(": ")
        if current is None:
            current = Case(name, number)
            cases.append(current)
        current.fields.setdefault(key, []).append(value)
        last_key = key
    return cases


@dataclass
class Fixture:
    ctx: EvalContext
    schemas: dict[Kind, Schema]
    documents: dict[Kind, dict[str, dict[str, Any]]]
    records: dict[Kind, list[tuple[str, Record]]]
    members: dict[str, set[str]]
    segments: dict[str, SegmentInfo]


def load_fixture() -> Fixture:
    raw = json.loads((GOLDEN / "fixture.json").read_text())
    tz = ZoneInfo(raw["tz"])
    ctx = EvalContext(datetime.fromisoformat(raw["now"]), tz)
    schemas = {
        kind: Schema(kind, tuple(declare(kind, **a) for a in raw["custom"][kind.value]))
        for kind in SEGMENTED_KINDS
    }
    documents = {
        kind: {
            i: validate(schemas[kind], i, values, tz=tz) for i, values in raw[kind.value].items()
        }
        for kind in SEGMENTED_KINDS
    }
    records = {
        kind: [(i, encode(schemas[kind], doc)) for i, doc in documents[kind].items()]
        for kind in SEGMENTED_KINDS
    }
    segments = raw["segments"]
    return Fixture(
        ctx,
        schemas,
        documents,
        records,
        {code: set(s["members"]) for code, s in segments.items()},
        {
            code: SegmentInfo(Kind(s["kind"]), tuple(s.get("refs", ())))
            for code, s in segments.items()
        },
    )
