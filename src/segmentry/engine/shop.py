"""``Shop``: the library's API for one tenant. Every call runs in its own
transaction (writes) or consistent read; nothing here holds business logic
beyond choosing which engine function to call."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from segmentry.engine import attributes, preview, reads
from segmentry.engine import segments as segment_ops
from segmentry.engine.entity_calls import EntityCalls
from segmentry.engine.order_calls import OrderCalls
from segmentry.engine.state import View
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import (
    EditPreview,
    Event,
    Explanation,
    HistoryPoint,
    Member,
    Page,
    Preview,
    Segment,
    SegmentEdit,
    SegmentSpec,
    SegmentType,
    Status,
    Use,
    Version,
)
from segmentry.model.schema import Attribute, AttrType, Kind, Schema, segmented
from segmentry.rules import convert
from segmentry.rules.load import CheckedRule, RuleSource

if TYPE_CHECKING:
    from segmentry.engine.segmentry import Segmentry


class Shop(EntityCalls, OrderCalls):
    """The library's API for one tenant (and, when given, the API key that acts).

    Owns nothing but those ids and its ``Segmentry``: every call opens its own
    write transaction or consistent read there and hands it to the use case in
    ``engine/`` that does the work. Entity calls come from ``EntityCalls``, order
    calls from ``OrderCalls``."""

    def __init__(
        self,
        segmentry: Segmentry,
        tenant_id: int,
        *,
        key_id: str | None = None,
        revision: int | None = None,
    ) -> None:
        self.segmentry = segmentry
        self.tenant_id = tenant_id
        self.key_id = key_id
        self.revision = revision
        """The tenant's revision as the caller just read it with its key, if it did:
        used by the next member check only (a shop kept longer must not answer from
        a revision read long ago)."""

    def _write(self) -> AbstractContextManager[Transaction]:
        return self.segmentry.transaction(self.tenant_id, by_key=self.key_id)

    def _read(self) -> AbstractContextManager[View]:
        return self.segmentry.view(self.tenant_id)

    def attributes_schema(self, kind: Kind | str) -> Schema:
        """The tenant's attributes of ``kind`` as the schema rules and values are checked on."""
        with self._read() as view:
            return view.state.schemas[Kind(kind)]

    def convert_rule(
        self, kind: Kind | str, rule: Any, *, source: str, target: str, dialect: str | None = None
    ) -> Any:
        """``rule`` from format ``source`` into ``target`` against this tenant's attributes
        and segments (``IN SEGMENT``), with date literals in its time zone."""
        with self._read() as view:
            schema = view.state.schemas[Kind(kind)]
            tz = view.state.tz
            schemas = view.state.schemas
            node = convert.read_rule(rule, source=source, schema=schema, schemas=schemas)
        return convert.write_rule(node, target=target, schema=schema, dialect=dialect, tz=tz)

    def rule_in_format(self, kind: Kind | str, rule: Any, rule_format: str) -> RuleSource:
        """A rule given in ``rule_format`` as our JSON form (ours pass through unchanged,
        so their errors keep pointing into what the user wrote)."""
        if rule_format in ("text", "json"):
            return cast(RuleSource, rule)
        return cast(RuleSource, self.convert_rule(kind, rule, source=rule_format, target="json"))

    # -- attributes ------------------------------------------------------------------------

    def attributes(self, kind: Kind | str) -> list[Attribute]:
        with self._read() as view:
            return list(view.state.schemas[Kind(kind)])

    def declare_attribute(
        self,
        kind: Kind | str,
        key: str,
        type: AttrType | str,
        *,
        label: str = "",
        values: Iterable[str] = (),
    ) -> Attribute:
        with self._write() as tx:
            return attributes.add(tx, Kind(kind), key, type, label=label, values=values)

    def delete_attribute(self, kind: Kind | str, key: str) -> None:
        with self._write() as tx:
            attributes.remove(tx, Kind(kind), key)

    # -- segments ---------------------------------------------------------------------------

    def create_segment(self, spec: SegmentSpec) -> Segment:
        with self._write() as tx:
            segment = segment_ops.create(tx, spec)
            return reads.segment_view(tx.state, segment)

    def segment(self, code: str) -> Segment:
        with self._read() as view:
            return reads.segment_view(view.state, segment_ops.get(view.state, code))

    def segments(
        self,
        kind: Kind | str | None = None,
        type: SegmentType | str | None = None,
        status: Status | str | None = None,
    ) -> list[Segment]:
        with self._read() as view:
            return reads.list_segments(
                view.state,
                segmented(kind) if kind else None,
                SegmentType(type) if type else None,
                Status(status) if status else None,
            )

    def edit_segment(
        self,
        code: str,
        change: SegmentEdit,
        *,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Segment:
        """Edit a segment; renaming one that has uses is refused (``InUseError``, with
        the uses) unless ``force``."""
        with self._write() as tx:
            segment = segment_ops.edit(tx, code, change, expected_version, force=force)
            return reads.segment_view(tx.state, segment)

    def delete_segment(
        self, code: str, *, force: bool = False, expected_version: int | None = None
    ) -> None:
        with self._write() as tx:
            segment_ops.delete(tx, code, force, expected_version)

    def versions(self, code: str) -> list[Version]:
        with self._read() as view:
            return reads.versions(view.conn, view.state, code)

    def restore_version(
        self,
        code: str,
        version: int,
        *,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Segment:
        """Restore a saved definition as a new version; one of another code is a rename
        (see ``edit_segment``)."""
        with self._write() as tx:
            segment = segment_ops.restore(tx, code, version, expected_version, force=force)
            return reads.segment_view(tx.state, segment)

    def edit_members(
        self, code: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> tuple[int, int]:
        with self._write() as tx:
            return segment_ops.edit_members(tx, code, list(add), list(remove))

    def members(self, code: str, *, limit: int = 100, cursor: str | None = None) -> Page[Member]:
        with self._read() as view:
            return reads.members(view.conn, view.state, code, limit, cursor)

    def member(self, code: str, entity_id: str) -> Member | None:
        """The entity's membership, ``None`` when it is not a member (the checkout's
        question: see ``Segmentry.member`` for how it is answered)."""
        return self.segmentry.member(self.tenant_id, code, entity_id, revision=self._seen())

    def kept_member(self, code: str, entity_id: str) -> Member | reads.Kept | None:
        """:meth:`member` if the kept state can answer it at once, else ``Kept.STALE``:
        it never waits for a write nor loads the tenant's state."""
        return self.segmentry.kept_member(self.tenant_id, code, entity_id, revision=self._seen())

    def _seen(self) -> int | None:
        revision, self.revision = self.revision, None
        return revision

    def uses(self, code: str) -> list[Use]:
        with self._read() as view:
            return reads.uses(view.conn, view.state, code)

    def put_use(self, code: str, use: Use) -> bool:
        with self._write() as tx:
            return segment_ops.put_use(tx, code, use)

    def remove_use(self, code: str, use_id: str) -> None:
        with self._write() as tx:
            segment_ops.remove_use(tx, code, use_id)

    def events(
        self, *, after: str | None = None, limit: int = 100, code: str | None = None
    ) -> Page[Event]:
        with self._read() as view:
            return reads.events(view.conn, view.state, after, limit, code)

    def history(self, code: str) -> list[HistoryPoint]:
        with self._read() as view:
            return reads.history(view.conn, view.state, code)

    # -- preview and explain ------------------------------------------------------------------

    def check_rule(self, kind: Kind | str, rule: RuleSource) -> CheckedRule:
        """Check a rule against this tenant (custom attributes, segments) without running it."""
        with self._read() as view:
            return preview.check_rule(view, segmented(kind), rule)

    def preview(self, kind: Kind | str, rule: RuleSource, *, limit: int = 10) -> Preview:
        with self._read() as view:
            return preview.preview(view, segmented(kind), rule, limit)

    def preview_edit(self, code: str, rule: RuleSource, *, limit: int = 10) -> EditPreview:
        with self._read() as view:
            return preview.preview_edit(view, code, rule, limit)

    def value_counts(
        self, kind: Kind | str, key: str, text: str = "", *, limit: int = 10
    ) -> list[tuple[str, int]]:
        """Values of a text, enum or list attribute containing ``text`` (ignoring case),
        with how many entities have each; those starting with it first, then the
        commonest. Values differing only in case are one (rules compare text ignoring
        case), shown in lower case; an enum's as declared."""
        with self._read() as view:
            return preview.value_counts(view, segmented(kind), key, text, limit)

    def explain(self, code: str, entity_id: str) -> Explanation:
        with self._read() as view:
            return preview.explain(view, code, entity_id)

    def sweep(self) -> int:
        return self.segmentry.sweep(self.tenant_id)
