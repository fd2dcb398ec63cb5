"""The operators of the rule language: one row each, read by every part that names one.

A row says how the text form writes the operator, its JSON name (the value of
:class:`Op`), what it takes on its right-hand side, the attribute types it
applies to, the positive operator it negates, the line that documents it (the
operator table of docs/rules.md is tested to equal these rows) and how the
rule builder labels it. The lexer, the parser, the printer, the JSON reader,
the type checker and the rule builder all read this table; none lists
operators of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from segmentry.model.schema import AttrType


class Op(StrEnum):
    """Condition operators, spelled as in the JSON form."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    BETWEEN = "between"
    NOT_BETWEEN = "not between"
    IN = "in"
    NOT_IN = "not in"
    CONTAINS = "contains"
    NOT_CONTAINS = "not contains"
    CONTAINS_ANY = "contains any"
    CONTAINS_ALL = "contains all"
    CONTAINS_NONE = "contains none"
    STARTS_WITH = "starts with"
    NOT_STARTS_WITH = "not starts with"
    ENDS_WITH = "ends with"
    NOT_ENDS_WITH = "not ends with"
    MATCHES = "matches"
    IS_NULL = "is null"
    IS_NOT_NULL = "is not null"

    @property
    def positive(self) -> Op:
        """The positive twin of a negative operator (itself if positive)."""
        return BY_OP[self].negates or self

    @property
    def is_negative(self) -> bool:
        return BY_OP[self].negates is not None

    @property
    def arity(self) -> Arity:
        return BY_OP[self].arity

    @property
    def text(self) -> str:
        """The operator as the text form writes it: ``NOT IN``, ``<=``."""
        return BY_OP[self].text


class Arity(StrEnum):
    """What an operator takes on its right-hand side."""

    NONE = "none"
    ONE = "one"
    PAIR = "pair"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class Operator:
    """One operator: its spellings, operand, types, twin, docs line and builder label."""

    op: Op
    arity: Arity
    types: frozenset[AttrType]
    doc: str
    label: str
    time_label: str = ""
    """The builder's label on a date or date-time attribute, where it differs."""
    negates: Op | None = None
    """The positive operator this one is exactly the negation of."""
    aliases: tuple[str, ...] = ()
    """Other spellings read in both forms (never printed)."""

    @property
    def text(self) -> str:
        return self.op.value if not self.op.value[0].isalpha() else self.op.value.upper()


TEXTUAL = frozenset({AttrType.STRING, AttrType.ENUM})
NUMERIC = frozenset({AttrType.NUMBER, AttrType.INTEGER})
TEMPORAL = frozenset({AttrType.DATE, AttrType.DATETIME})
BOOLEAN = frozenset({AttrType.BOOLEAN})
LIST = frozenset({AttrType.STRING_LIST})
EVERY_TYPE = frozenset(AttrType)

_ONE, _PAIR, _LIST, _NONE = Arity.ONE, Arity.PAIR, Arity.LIST, Arity.NONE
OPERATORS: tuple[Operator, ...] = (
    Operator(Op.EQ, _ONE, TEXTUAL | NUMERIC | BOOLEAN | TEMPORAL,
             "equals the value", "is", aliases=("==",)),
    Operator(Op.NE, _ONE, TEXTUAL | NUMERIC | BOOLEAN | TEMPORAL,
             "does not equal the value, or is missing", "is not",
             negates=Op.EQ, aliases=("<>",)),
    Operator(Op.LT, _ONE, NUMERIC | TEMPORAL, "is less than (before) the value",
             "less than", "before"),
    Operator(Op.LE, _ONE, NUMERIC | TEMPORAL, "is at most (on or before) the value",
             "at most", "on or before"),
    Operator(Op.GT, _ONE, NUMERIC | TEMPORAL, "is greater than (after) the value",
             "greater than", "after"),
    Operator(Op.GE, _ONE, NUMERIC | TEMPORAL, "is at least (on or after) the value",
             "at least", "on or after"),
    Operator(Op.BETWEEN, _PAIR, NUMERIC | TEMPORAL,
             "lies from the low value to the high one, both included", "between"),
    Operator(Op.NOT_BETWEEN, _PAIR, NUMERIC | TEMPORAL,
             "lies outside the low and high values, or is missing", "not between",
             negates=Op.BETWEEN),
    Operator(Op.IN, _LIST, TEXTUAL | NUMERIC, "equals one of the values", "is one of"),
    Operator(Op.NOT_IN, _LIST, TEXTUAL | NUMERIC,
             "equals none of the values, or is missing", "is none of", negates=Op.IN),
    Operator(Op.CONTAINS, _ONE, TEXTUAL | LIST,
             "has the text in it (a string) or the element (a list)", "contains"),
    Operator(Op.NOT_CONTAINS, _ONE, TEXTUAL | LIST,
             "has neither in it, or is missing", "does not contain", negates=Op.CONTAINS),
    Operator(Op.CONTAINS_ANY, _LIST, LIST, "has at least one of the values",
             "contains any of"),
    Operator(Op.CONTAINS_ALL, _LIST, LIST, "has every one of the values", "contains all of"),
    Operator(Op.CONTAINS_NONE, _LIST, LIST, "has none of the values, or is missing",
             "contains none of", negates=Op.CONTAINS_ANY),
    Operator(Op.STARTS_WITH, _ONE, TEXTUAL, "begins with the text", "starts with"),
    Operator(Op.NOT_STARTS_WITH, _ONE, TEXTUAL, "does not begin with the text, or is missing",
             "does not start with", negates=Op.STARTS_WITH),
    Operator(Op.ENDS_WITH, _ONE, TEXTUAL, "ends with the text", "ends with"),
    Operator(Op.NOT_ENDS_WITH, _ONE, TEXTUAL, "does not end with the text, or is missing",
             "does not end with", negates=Op.ENDS_WITH),
    Operator(Op.MATCHES, _ONE, TEXTUAL, "has a match of the pattern in it (see MATCHES)",
             "matches pattern"),
    Operator(Op.IS_NULL, _NONE, EVERY_TYPE, "is missing (an empty string or list too)",
             "is empty"),
    Operator(Op.IS_NOT_NULL, _NONE, EVERY_TYPE, "is present", "is not empty",
             negates=Op.IS_NULL),
)  # fmt: skip
"""Every operator, in the language's order (the order messages and menus list them in)."""

BY_OP: dict[Op, Operator] = {row.op: row for row in OPERATORS}
BY_TYPE: dict[AttrType, frozenset[Op]] = {
    type_: frozenset(row.op for row in OPERATORS if type_ in row.types) for type_ in AttrType
}
"""The operators that apply to each attribute type."""
NEGATION: dict[Op, Op] = {
    **{row.negates: row.op for row in OPERATORS if row.negates},
    **{row.op: row.negates for row in OPERATORS if row.negates},
}
"""Each operator's negation twin, both ways."""

JSON_NAMES: dict[str, Op] = {
    **{row.op.value: row.op for row in OPERATORS},
    **{alias: row.op for row in OPERATORS for alias in row.aliases},
}
"""Every JSON spelling of an operator, aliases included."""
SYMBOLS: dict[str, Op] = {name: op for name, op in JSON_NAMES.items() if not name[0].isalpha()}
"""The operators written with symbols (``<=``, ``<>``), as the lexer reads them."""
WORDS: dict[tuple[str, ...], Op] = {
    tuple(row.text.split()): row.op for row in OPERATORS if row.text[0].isalpha()
}
"""The operators written with words, by their upper-case words: ``("NOT", "IN")``."""
FIRST_WORDS: tuple[str, ...] = tuple(dict.fromkeys(words[0] for words in WORDS))
"""The words an operator can begin with, for did-you-mean on a misspelt one."""
OPERATOR_WORDS: frozenset[str] = frozenset(word for words in WORDS for word in words)


ATTRIBUTE_OPS = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE})
"""The operators that compare an attribute with another: ``price < original_price``."""


class Each(StrEnum):
    """List quantifiers, written before the list: ``ANY tags STARTS WITH 'sale-'``."""

    ANY = "any"
    ALL = "all"
    NONE = "none"


EACH_OPS = frozenset({Op.EQ, Op.NE, Op.STARTS_WITH, Op.ENDS_WITH, Op.CONTAINS, Op.MATCHES})
"""The string tests a quantifier applies to each item of a list."""
EACH_WORDS: dict[str, Each] = {each.value.upper(): each for each in Each}


class Fn(StrEnum):
    """Functions of an attribute, written ``count(tags)``; spelled as in the JSON form."""

    COUNT = "count"
    ANNIVERSARY = "anniversary"


@dataclass(frozen=True, slots=True)
class Function:
    """One function: the attribute types it takes, the type it gives, the operators
    it compares with (a subset of its type's) and the line that documents it."""

    fn: Fn
    argument: str
    """How the docs name the argument: ``count(list)``."""
    takes: frozenset[AttrType]
    gives: AttrType
    ops: frozenset[Op]
    doc: str


COMPARISONS = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.BETWEEN, Op.NOT_BETWEEN})
FUNCTIONS: tuple[Function, ...] = (
    Function(Fn.COUNT, "list", LIST, AttrType.INTEGER, COMPARISONS,
             "the number of items of the list, 0 when it is missing"),
    Function(Fn.ANNIVERSARY, "date attribute", TEMPORAL, AttrType.DATE, COMPARISONS,
             "the next day, today included, with the month and day of the date"),
)  # fmt: skip
"""Every function of an attribute. None takes IS NULL (a count is never missing; a missing
date has no anniversary, which fails the positive operators as a missing value does);
nor IN (a set of counts that holds 0 has no single range of complement)."""
BY_FN: dict[Fn, Function] = {row.fn: row for row in FUNCTIONS}
FUNCTION_WORDS: dict[str, Fn] = {fn.value.upper(): fn for fn in Fn}
"""The functions by their upper-case name, as the parser reads them."""


class Act(StrEnum):
    """Behaviour functions: what a customer did, or what was done with a product, counted
    over the tenant's placed orders (SPEC §8). Spelled as in the text and JSON forms."""

    ORDERS_PLACED = "orders_placed"
    AMOUNT_SPENT = "amount_spent"
    PURCHASED = "purchased"
    UNITS_PURCHASED = "units_purchased"
    UNITS_SOLD = "units_sold"
    REVENUE = "revenue"


@dataclass(frozen=True, slots=True)
class Activity:
    """One behaviour function: the kind of segment it belongs in, the kind its condition
    is over, what its value is and the line that documents it."""

    act: Act
    segment_kind: str
    """``customer`` or ``product``: the segments it may appear in."""
    condition_kind: str
    """``order``, ``product`` or ``customer``: what its condition is checked against."""
    gives: AttrType | None
    """``INTEGER`` for counts, ``NUMBER`` for money; ``None`` for the boolean ``purchased``."""
    doc: str


BEHAVIOUR_OPS = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE})
"""What a counted value compares with: one number, never missing (0 when nothing counts)."""
ACTIVITIES: tuple[Activity, ...] = (
    Activity(Act.ORDERS_PLACED, "customer", "order", AttrType.INTEGER,
             "the number of the customer's placed orders that meet the condition"),
    Activity(Act.AMOUNT_SPENT, "customer", "order", AttrType.NUMBER,
             "the sum of the totals of those orders, exact to the cent"),
    Activity(Act.PURCHASED, "customer", "product", None,
             "true if the customer bought a unit of a product that meets the condition"),
    Activity(Act.UNITS_PURCHASED, "customer", "product", AttrType.INTEGER,
             "the units the customer bought of products that meet the condition"),
    Activity(Act.UNITS_SOLD, "product", "customer", AttrType.INTEGER,
             "the units of this product sold to buyers that meet the condition"),
    Activity(Act.REVENUE, "product", "customer", AttrType.NUMBER,
             "quantity times unit price of this product's lines sold to such buyers"),
)  # fmt: skip
"""Every behaviour function, in the order the docs list them."""
BY_ACT: dict[Act, Activity] = {row.act: row for row in ACTIVITIES}
ACT_WORDS: dict[str, Act] = {act.value.upper(): act for act in Act}
"""The behaviour functions by their upper-case name, as the parser reads them."""


def listed(ops: frozenset[Op] | None = None) -> str:
    """The operators (all, or those of ``ops``) as messages list them: ``=, !=, <``."""
    return ", ".join(row.text for row in OPERATORS if ops is None or row.op in ops)
