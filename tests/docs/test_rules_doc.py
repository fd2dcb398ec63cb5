"""docs/rules.md stays true: its tables of operators, functions and behaviour functions
are the registries, row for row, and its behaviour examples read as written."""

from __future__ import annotations

from pathlib import Path

from segmentry.model.schema import AttrType
from segmentry.rules.ast import behaviours
from segmentry.rules.operators import (
    ACTIVITIES,
    BY_OP,
    EVERY_TYPE,
    FUNCTIONS,
    NEGATION,
    OPERATORS,
    Activity,
    Function,
    Operator,
)
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
HEADER = "| text | JSON | value | applies to | negation | holds when the attribute |"
TYPE_ORDER = (
    AttrType.STRING, AttrType.ENUM, AttrType.NUMBER, AttrType.INTEGER, AttrType.BOOLEAN,
    AttrType.DATE, AttrType.DATETIME, AttrType.STRING_LIST,
)  # fmt: skip


FUNCTION_HEADER = "| function | applies to | compares as | operators | value |"


def documented_rows(header: str = HEADER) -> list[str]:
    """The rows of the table under ``header`` in docs/rules.md, as written."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    assert header in lines, f"docs/rules.md has no table headed {header}"
    start = lines.index(header) + 2  # past the header and its --- line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def row(operator: Operator) -> str:
    """The table row the registry gives ``operator``."""
    text = f"`{operator.text}`"
    if operator.aliases:
        text += " (or " + ", ".join(f"`{alias}`" for alias in operator.aliases) + ")"
    types = (
        "every type"
        if operator.types == EVERY_TYPE
        else ", ".join(t.value for t in TYPE_ORDER if t in operator.types)
    )
    twin = NEGATION.get(operator.op)
    negation = f"`{BY_OP[twin].text}`" if twin is not None else "—"
    cells = (text, f"`{operator.op.value}`", operator.arity.value, types, negation, operator.doc)
    return "| " + " | ".join(cells) + " |"


def test_the_type_order_names_every_type_once() -> None:
    assert sorted(TYPE_ORDER) == sorted(AttrType)


def test_the_operator_table_is_the_registry() -> None:
    assert documented_rows() == [row(operator) for operator in OPERATORS]


def function_row(function: Function) -> str:
    """The table row the registry gives ``function``."""
    takes = ", ".join(t.value for t in TYPE_ORDER if t in function.takes)
    ops = ", ".join(f"`{row.text}`" for row in OPERATORS if row.op in function.ops)
    name = f"`{function.fn.value}({function.argument})`"
    cells = (name, takes, function.gives.value, ops, function.doc)
    return "| " + " | ".join(cells) + " |"


def test_the_function_table_is_the_registry() -> None:
    assert documented_rows(FUNCTION_HEADER) == [function_row(f) for f in FUNCTIONS]


ACTIVITY_HEADER = "| function | in rules of | its condition is over | value | counts |"


def activity_row(activity: Activity) -> str:
    """The table row the registry gives a behaviour function."""
    gives = activity.gives.value if activity.gives is not None else "boolean"
    cells = (f"`{activity.act.value}()`", activity.segment_kind, activity.condition_kind, gives,
             activity.doc)  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def test_the_behaviour_table_is_the_registry() -> None:
    assert documented_rows(ACTIVITY_HEADER) == [activity_row(a) for a in ACTIVITIES]


def section_blocks(title: str) -> list[str]:
    """The ```text blocks of the section of docs/rules.md headed ``title``."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0] for block in section.split("```text\n")[1:]]


def test_the_behaviour_examples_read_and_the_long_one_is_printed_as_shown() -> None:
    examples, layout = section_blocks("Behaviour functions")
    for line in examples.splitlines():
        rule = line.split("--")[0].strip()
        assert behaviours(parse(rule)), rule
        assert format_rule(parse(rule), 10_000) == rule
    assert format_rule(parse(layout)) == layout.rstrip("\n")
