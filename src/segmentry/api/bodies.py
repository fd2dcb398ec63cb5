"""The JSON bodies of the API other than entities: what requests send, what answers hold.

Request models forbid unknown fields, so a misspelt one is an error rather
than silently ignored. Values are checked here only as far as the OpenAPI
document describes them; the library checks the rest and says what is wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from segmentry.engine.import_readers import ImportFormat
from segmentry.engine.imports import ImportStatus
from segmentry.engine.reads import MAX_PAGE
from segmentry.engine.segments import CODE_RE, MAX_DESCRIPTION, MAX_FIXED_EDIT, MAX_NAME
from segmentry.engine.types import Cause, Change, SegmentType, Status, UseType
from segmentry.model.schema import MAX_ENUM_VALUES, MAX_LABEL_LENGTH, AttrType, Kind

CODE_PATTERN = f"^{CODE_RE.pattern}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, examples=["engageNoOrders"])]
Ids = Annotated[list[str], Field(max_length=MAX_FIXED_EDIT)]
Rule = Annotated[
    str | dict[str, Any],
    Field(
        description="The rule as text (`brand = 'Nike' AND price > 100`) or in its JSON form "
        '(`{"attr": "price", "op": ">", "value": 100}`); see docs/rules.md.',
        examples=["brand = 'Nike' AND price > 100"],
    ),
]
RuleFormat = Literal["text", "json", "jsonlogic", "querybuilder", "shopify"]
RuleFormatField = Annotated[
    RuleFormat,
    Field(
        description="The format `rule` is written in: `text` and `json` (ours, either one is "
        "recognised under `text`), `jsonlogic`, `querybuilder` (react-querybuilder) or `shopify`; "
        "the segment stores our form (see docs/rules.md).",
    ),
]
SampleSize = Annotated[int, Field(ge=1, le=MAX_PAGE, description="How many ids to sample.")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- attributes ----------------------------------------------------------------------------


class AttributeIn(Strict):
    kind: Kind
    key: str = Field(max_length=64, examples=["loyalty_status"])
    label: str = Field(default="", max_length=MAX_LABEL_LENGTH, examples=["Loyalty Status"])
    type: AttrType
    values: list[str] = Field(
        default_factory=list, max_length=MAX_ENUM_VALUES, description="The values of an enum."
    )


class AttributeOut(BaseModel):
    kind: Kind
    key: str
    label: str
    type: AttrType
    values: list[str]
    builtin: bool
    derived: bool = Field(description="Computed by segmentry; cannot be written.")


# -- segments ----------------------------------------------------------------------------------


class SegmentIn(Strict):
    kind: Kind
    code: Code
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    type: SegmentType = SegmentType.DYNAMIC
    status: Status = Status.ACTIVE
    rule: Rule | None = Field(default=None, description="Dynamic segments only.")
    rule_format: RuleFormatField = "text"
    members: Ids = Field(default_factory=list, description="Fixed segments only: entity ids.")


class SegmentPatch(Strict):
    """A JSON merge patch of a segment: fields given replace, fields left out stay;
    ``null`` clears the description and is refused for the other fields."""

    code: Code | None = None
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    status: Status | None = None
    rule: Rule | None = None
    rule_format: RuleFormatField = "text"


class ConvertIn(Strict):
    kind: Kind
    from_: Literal["text", "json", "jsonlogic", "querybuilder", "shopify"] = Field(alias="from")
    to: Literal["text", "json", "jsonlogic", "querybuilder", "shopify", "sql"]
    rule: Any = Field(description="The rule in format `from`: text, or a JSON value.")
    dialect: Literal["sqlite", "postgres", "duckdb", "bigquery", "snowflake"] | None = Field(
        default=None, description="With `to: sql` only."
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ConvertOut(BaseModel):
    rule: Any = Field(description="The rule in format `to` (SQL: a `WHERE` clause).")


class RuleOut(BaseModel):
    text: str = Field(description="The canonical text form.")
    json_: dict[str, Any] = Field(alias="json", description="The JSON form.")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class SegmentOut(BaseModel):
    kind: Kind
    code: str
    name: str
    description: str
    type: SegmentType
    status: Status
    rule: RuleOut | None = Field(description="`null` for a fixed segment.")
    member_count: int
    version: int = Field(description="Increases on every change; also the `ETag`.")
    created_at: datetime
    updated_at: datetime


class MemberOut(BaseModel):
    id: str
    since: datetime


class MemberCheck(BaseModel):
    member: bool = Field(description="Always true: a non-member is answered with 404.")
    since: datetime


class MembersEdit(Strict):
    add: Ids = Field(default_factory=list)
    remove: Ids = Field(default_factory=list)


class MembersEdited(BaseModel):
    added: int = Field(description="How many ids were not members before.")
    removed: int = Field(description="How many ids were members before.")


class PreviewIn(Strict):
    kind: Kind
    rule: Rule
    limit: SampleSize = 10


class PreviewOut(BaseModel):
    count: int
    sample: list[str]


class EditPreviewIn(Strict):
    rule: Rule
    limit: SampleSize = 10


class EditPreviewOut(BaseModel):
    count: int = Field(description="How many members the segment would have.")
    entering: int
    leaving: int
    sample_entering: list[str]
    sample_leaving: list[str]


class ExplanationOut(BaseModel):
    member: bool = Field(description="The kept membership.")
    tree: dict[str, Any] = Field(
        description="The rule, with the value `seen` and the `result` at each condition."
    )


class UseIn(Strict):
    type: UseType
    name: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2_000)


class UseOut(BaseModel):
    id: str
    type: UseType
    name: str
    url: str | None


class EventOut(BaseModel):
    id: int
    segment: str = Field(description="The segment's code when the event happened.")
    kind: Kind
    entity_id: str
    change: Change
    cause: Cause
    at: datetime


class HistoryPointOut(BaseModel):
    at: datetime
    member_count: int


class VersionOut(BaseModel):
    version: int
    at: datetime
    by: str | None = Field(description="The id of the API key that saved it.")
    definition: dict[str, Any]


# -- imports --------------------------------------------------------------------------------


class LineErrorOut(BaseModel):
    line: int
    message: str


class ImportOut(BaseModel):
    id: str
    kind: Kind
    format: ImportFormat
    status: ImportStatus = Field(
        description="running, done, or failed (stopped early, or interrupted: a running "
        "import whose 10-minute lease ran out without a committed batch)."
    )
    lines: int = Field(description="Entity lines read.")
    applied: int
    rejected: int
    last_line: int = Field(description="The last line counted (the header is line 1 of a CSV).")
    applied_lines: list[tuple[int, int]] = Field(
        description="Ranges [first, last] of the lines applied."
    )
    errors: list[LineErrorOut]
    error: str | None = Field(description="Why a failed import stopped.")
    started_at: datetime
    finished_at: datetime | None
