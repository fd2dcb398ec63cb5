"""MATCHES: one safe pattern language, the same answer in RE2, PostgreSQL and Rust (Polars)."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.rules import regex
from segmentry.rules.values import fold
from tests.conftest import examples

ATOMS = ["a", "B", "ß", "İ", "ﬁ", "é", "Ω", "日", "-", "\\.", "\\d", "\\w", "\\s", "\\W",
         "\\S", "\\D", ".", "[a-c]", "[^a]", "[À-ö]", "[\\d_]", "[Ωß-]", "\\n", "\\x41",
         "\\u00e9"]  # fmt: skip
TEXT_CHARS = "aAbBcCßSsİiIﬁfé eΩω日-._\n\t0129xyz"


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        atom = (
            draw(st.sampled_from(ATOMS))
            if depth > 1 or draw(st.booleans())
            else f"({draw(patterns(depth + 1))})"
        )
        quantifier = draw(st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?"]))
        parts.append(atom + quantifier)
    body = "".join(parts)
    if draw(st.booleans()):
        body = body + "|" + draw(st.sampled_from(ATOMS))
    return draw(st.sampled_from(["", "^"])) + body + draw(st.sampled_from(["", "$"]))


@pytest.fixture(scope="module")
def pg(pg_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def postgres_search(conn: sa.Connection, pattern: str, texts: list[str]) -> list[bool]:
    query = sa.text(
        "select t ~ :p from unnest(cast(:texts as text[])) with ordinality as u(t, n) order by n"
    )
    return list(conn.scalars(query, {"p": regex.translate(pattern, "postgres"), "texts": texts}))


def rust_search(pattern: str, texts: list[str]) -> list[bool]:
    return list(pl.Series(texts, dtype=pl.String).str.contains(regex.translate(pattern, "rust")))


@pytest.mark.postgres
@settings(max_examples=examples(600, 80))
@given(pattern=patterns(), texts=st.lists(st.text(TEXT_CHARS, max_size=8), min_size=1, max_size=8))
def test_re2_postgres_and_rust_agree(pattern: str, texts: list[str], pg: sa.Connection) -> None:
    folded = [fold(t) for t in texts]
    search = regex.compile_search(pattern)
    expected = [search(t) for t in folded]
    assert postgres_search(pg, pattern, folded) == expected
    assert rust_search(pattern, folded) == expected


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^AB-[0-9]+$", "ab-12", True),
        ("^AB-[0-9]+$", "AB-12", True),
        ("^AB-[0-9]+$", "AB-12x", False),
        ("STRASSE", "Straße", True),
        ("[A-Z]+", "abc", True),
        ("^ÉTÉ$", "été", True),
        ("a.b", "a\nb", True),
        ("^b", "a\nb", False),
        ("a$", "a\n", False),
        ("\\d", "٣", False),
    ],
)
def test_matching_ignores_case_and_anchors_the_whole_text(
    pattern: str, text: str, matches: bool
) -> None:
    assert regex.compile_search(pattern)(fold(text)) is matches


@pytest.mark.postgres
@pytest.mark.parametrize(
    "pattern", ["(a+)+$", "(a|aa)*b", "(.*a){20}", "(a*)*$", "^(a?){25}a{25}$"]
)
def test_catastrophic_patterns_return_promptly_everywhere(pattern: str, pg: sa.Connection) -> None:
    text = "a" * 100_000 + "!"
    expected = regex.compile_search(pattern)(text)
    assert postgres_search(pg, pattern, [text]) == [expected]
    assert rust_search(pattern, [text]) == [expected]


@pytest.mark.parametrize(
    ("pattern", "offset", "message"),
    [
        ("\\1", 0, "backreferences"),
        ("a(?=b)", 2, "lookahead"),
        ("(?<n>a)", 1, "lookbehind"),
        ("(?i)a", 1, "inline flags"),
        ("\\bword", 0, "\\b is not supported"),
        ("\\q", 0, "unknown escape"),
        ("[[:alpha:]]", 1, "POSIX"),
        ("a{", 1, "not a repetition count"),
        ("*a", 0, "nothing to repeat"),
        ("a**", 2, "nothing to repeat"),
        ("(ab", 0, "missing ')'"),
        ("ab)", 2, "unmatched ')'"),
        ("[ab", 0, "unterminated class"),
        ("[z-a]", 1, "reversed range"),
        ("a{3,1}", 1, "minimum is above"),
        ("a{101}", 1, "limited to 100"),
        ("((a{50}){50}){50}", 0, "too large"),
        ("a\x00", 1, "NUL"),
        ("x" * 1001, 1000, "longer than"),
    ],
)
def test_refused_constructs_say_where_and_why(pattern: str, offset: int, message: str) -> None:
    with pytest.raises(regex.PatternError) as caught:
        regex.parse_pattern(pattern)
    assert caught.value.offset == offset
    assert message in caught.value.message
    assert caught.value.hint


@settings(max_examples=examples(5_000, 500))
@given(
    pattern=st.one_of(st.text(max_size=20), st.text("()[]{}\\^$.|*+?-,:=!<>Pa0dwsx1", max_size=20))
)
def test_the_pattern_parser_only_ever_raises_pattern_errors(pattern: str) -> None:
    offset = _error_offset(pattern)
    if offset is None:
        regex.compile_search(pattern)
        regex.translate(pattern, "postgres")
    else:
        assert 0 <= offset <= len(pattern)


def _error_offset(pattern: str) -> int | None:
    try:
        regex.parse_pattern(pattern)
    except regex.PatternError as exc:
        return exc.offset
    return None
