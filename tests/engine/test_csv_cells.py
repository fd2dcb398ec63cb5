"""CSV cells segmentry writes open in a spreadsheet as text, never as formulas, and
read back through segmentry's own readers to the values written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from segmentry.engine.csv_cells import FORMULA_STARTS, neutralised, restored

# Text made mostly of the characters that matter here, so the edge cases come up.
TEXTS = st.text(alphabet=st.sampled_from([*FORMULA_STARTS, "'", "a", "1", " "]), max_size=6) | (
    st.text(max_size=12)
)


@given(TEXTS)
def test_a_neutralised_cell_reads_back_to_the_text(text: str) -> None:
    assert restored(neutralised(text)) == text


@given(TEXTS)
def test_no_neutralised_cell_starts_a_formula(text: str) -> None:
    assert neutralised(text)[:1] not in FORMULA_STARTS


def test_formula_starts_get_a_quote_and_plain_text_none() -> None:
    assert neutralised('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert neutralised("@SUM(A1)") == "'@SUM(A1)"
    assert neutralised("-2+3") == "'-2+3"
    assert neutralised("'=1") == "''=1"  # so that one quote can always be taken off
    for plain in ("Ana", "'quoted", "", "''", "1-2"):
        assert neutralised(plain) == plain
        assert restored(plain) == plain
