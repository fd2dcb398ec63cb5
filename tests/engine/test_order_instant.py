"""An order moment's spelling, reckoned without a zone, is ``format_instant``'s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from segmentry.engine.order_values import instant
from segmentry.model.values import format_instant

LOW = int((datetime(1000, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())


@given(
    st.one_of(
        st.integers(LOW * 10**6, 253_402_300_799 * 10**6),
        st.integers(LOW, 253_402_300_799).map(lambda s: s * 10**6),
    )
)
def test_instant_is_format_instant(micros: int) -> None:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    assert instant(micros) == format_instant(moment)
