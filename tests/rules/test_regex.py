"""MATCHES patterns: the supported subset, its folding, and one answer from three engines.

Every engine runs for real: google-re2 (Python), PostgreSQL's ``~`` and
Polars' ``str.contains`` (Rust ``regex``); Python's ``re`` is an extra oracle.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from segmentry.model.limits import MAX_DEPTH, MAX_PATTERN_LENGTH
from segmentry.model.values import fold
from segmentry.rules.regex import (
    Alternation,
    AnyChar,
    CharClass,
    Concat,
    End,
    Group,
    Literal,
    PatternError,
    Regex,
    Repeat,
    Start,
    compile_search,
    fold_pattern,
    parse_pattern,
    to_postgres,
    to_re2,
    to_rust,
    translate,
)
from tests.conftest import examples

# --- the engines --------------------------------------------------------------

_PG_SEARCH = sa.text(
    "select t.v ~ :pattern"
    " from unnest(cast(:values as text[])) with ordinality as t(v, i) order by t.i"
)


@pytest.fixture(scope="module")
def pg(pg_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def re2_search(pattern: str, values: list[str]) -> list[bool]:
    search = compile_search(pattern)
    return [search(value) for value in values]


def pg_search(conn: sa.Connection, pattern: str, values: list[str]) -> list[bool]:
    params = {"pattern": translate(pattern, "postgres"), "values": values}
    return [bool(row) for row in conn.execute(_PG_SEARCH, params).scalars()]


def polars_search(pattern: str, values: list[str]) -> list[bool]:
    series = pl.Series(values, dtype=pl.String).str.contains(translate(pattern, "rust"))
    return [bool(x) for x in series.to_list()]


def python_search(pattern: str, values: list[str]) -> list[bool]:
    # The RE2 text in Python's spelling: \x{H} becomes \UHHHHHHHH, and $ \Z
    # (Python's $ also matches before a final newline). Literal dollars are
    # hex escapes, so every bare $ is the anchor.
    spelled = re.sub(r"\\x\{([0-9A-F]+)\}", _python_hex, translate(pattern, "re2"))
    compiled = re.compile(spelled.replace("$", r"\Z"))
    return [compiled.search(value) is not None for value in values]


def _python_hex(found: re.Match[str]) -> str:
    return f"\\U{int(found[1], 16):08X}"


def everywhere(conn: sa.Connection, pattern: str, texts: list[str]) -> list[bool]:
    """The answers for ``texts`` after checking that all three engines agree."""
    values = [fold(text) for text in texts]
    answers = re2_search(pattern, values)
    assert pg_search(conn, pattern, values) == answers, translate(pattern, "postgres")
    assert polars_search(pattern, values) == answers, translate(pattern, "rust")
    return answers


# --- random patterns and texts --------------------------------------------------

SPECIAL = set("()[]{}|*+?.^$\\")
CLASS_SPECIAL = set("[]\\^-")
# Sharp s, dotted and dotless i, the sigmas, ligatures, Kelvin and ohm signs:
# multi-character, final-sigma and compatibility folds.
INTERESTING = [*"aAbBzZ09_-.ßẞİiI\u0131\u03a3\u03c3\u03c2KkÅåéÉ\n\t "]
INTERESTING += ["\ufb01", "\u0390", "\u0149", "\u01c5", "\u212a", "\u2126", "😀"]
RANGES = [("a", "z"), ("A", "Z"), ("0", "9"), ("À", "ÿ"), ("\u0391", "\u03a9"), ("Ā", "\u017f")]
RANGES += [("😀", "🙏")]
CONTROLS = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f", "\v": "\\v"}
any_char = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
chars = st.one_of(st.sampled_from(INTERESTING), any_char)


def spellings(char: str, special: set[str]) -> list[str]:
    code = ord(char)
    out = [] if char in special else [char]
    out += ["\\" + char] if char in string.punctuation else []
    out += [f"\\x{code:02x}"] if code < 0x100 else []
    out += [f"\\u{code:04X}"] if code <= 0xFFFF else []
    return out + ([CONTROLS[char]] if char in CONTROLS else [])


@st.composite
def literals(draw: st.DrawFn, special: set[str] = SPECIAL) -> str:
    return draw(st.sampled_from(spellings(draw(chars), special)))


@st.composite
def class_ranges(draw: st.DrawFn) -> str:
    lo, hi = draw(st.sampled_from(RANGES) | st.tuples(chars, chars).map(sorted))
    spell = [draw(st.sampled_from(spellings(c, CLASS_SPECIAL))) for c in (lo, hi)]
    return f"{spell[0]}-{spell[1]}"


SET_ESCAPES = st.sampled_from(["\\d", "\\w", "\\s", "\\D", "\\W", "\\S"])
class_items = st.one_of(literals(CLASS_SPECIAL), class_ranges(), SET_ESCAPES)
classes = st.builds(
    lambda neg, items: f"[{'^' if neg else ''}{''.join(items)}]",
    st.booleans(),
    st.lists(class_items, min_size=1, max_size=4),
)
quantifiers = st.builds(
    lambda q, lazy: q + ("?" if lazy and q else ""),
    st.sampled_from(["", "", "*", "+", "?", "{0}", "{1}", "{2}", "{0,}", "{2,}", "{0,2}", "{1,3}"]),
    st.booleans(),
)
patterns = st.deferred(lambda: st.lists(concats, min_size=1, max_size=3).map("|".join))
openers = st.sampled_from(["(", "(?:"])
groups = st.builds(lambda opener, inner: f"{opener}{inner})", openers, patterns)
atoms = st.one_of(literals(), st.just("."), classes, SET_ESCAPES, st.sampled_from("^$"), groups)
concats = st.lists(st.builds(str.__add__, atoms, quantifiers), max_size=4).map("".join)


def witness(node: Regex, rng: random.Random) -> str:
    """A text the folded ``node`` probably matches, so that matches actually happen."""
    match node:
        case Literal(char):
            return char
        case AnyChar():
            return rng.choice(["\n", "x", "ß", "😀"])
        case CharClass(negated, ranges):
            # A few usual suspects for a negated class, any member otherwise.
            code = rng.choice([0x0A, 0x41, 0x61, 0xDF])
            code = code if negated else rng.randint(*rng.choice(ranges))
            return "a" if code == 0 or 0xD800 <= code <= 0xDFFF else chr(code)
        case Concat(items):
            return "".join(witness(item, rng) for item in items)
        case Alternation(items):
            return witness(rng.choice(items), rng)
        case Group(item):
            return witness(item, rng)
        case Repeat(item, low, high):
            count = rng.randint(low, low + 2 if high is None else high)
            return "".join(witness(item, rng) for _ in range(count))
    return ""


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, list[str]]:
    pattern = draw(patterns)
    error = rejection(pattern)
    # Only the limits may turn a generated pattern away (deep nesting, rare length).
    limits = ("multipl", "repeated out", "characters", "nest")
    assert error is None or any(word in error.message for word in limits), error
    assume(error is None)
    tree = parse_pattern(pattern)
    rng = draw(st.randoms(use_true_random=False))
    alphabet = sorted({*pattern, *pattern.upper(), *fold(pattern), "\n", "ß", "İ", "x"})
    near = st.text(st.sampled_from(alphabet) | any_char, max_size=12)
    texts = draw(st.lists(near, min_size=1, max_size=6))
    for _ in range(3):
        found = witness(fold_pattern(tree), rng)
        texts += [found, found.upper(), draw(near) + found + draw(near)]
    return pattern, texts


def rejection(pattern: str) -> PatternError | None:
    try:
        parse_pattern(pattern)
    except PatternError as error:
        return error
    return None


def nested_quantifiers(node: Regex, inside: bool = False) -> bool:
    match node:
        case Repeat(item):
            return inside or nested_quantifiers(item, True)
        case Group(item):
            return nested_quantifiers(item, inside)
        case Concat(items) | Alternation(items):
            return any(nested_quantifiers(item, inside) for item in items)
    return False


# --- the three engines agree ------------------------------------------------------


@pytest.mark.postgres
@settings(max_examples=examples(300, 60))
@given(case=cases())
def test_engines_agree_on_random_patterns(pg: sa.Connection, case: tuple[str, list[str]]) -> None:
    pattern, texts = case
    answers = everywhere(pg, pattern, texts)
    if not nested_quantifiers(parse_pattern(pattern)):
        assert python_search(pattern, [fold(t) for t in texts]) == answers


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("pattern", "texts", "expected"),
    [
        ("^AB-[0-9]+$", ["ab-12", "AB-12", "AB-12x", "xAB-12"], [True, True, False, False]),
        ("STRASSE", ["Straße", "STRASSE", "strase"], [True, True, False]),
        ("straße", ["STRASSE", "Strasse", "STRAẞE"], [True, True, True]),
        ("[A-Z]+", ["abc", "ABC", "123"], [True, True, False]),
        ("^[\u0391-\u03a9]+$", ["\u03c9\u03bc\u03b5\u03b3\u03b1", "\u03a9\u039c"], [True, True]),
        ("^[\u0391-\u03a9]+$", ["\u03ac"], [False]),
        ("ﬁle", ["FILE", "file"], [True, True]),
        ("^İ$", ["i̇", "İ", "i"], [True, True, False]),
        ("ß{2}", ["ssss", "SSSß", "sss"], [True, True, False]),
        ("\\x41\\u00c9", ["aé", "AÉ"], [True, True]),
    ],
)
def test_matching_ignores_case(
    pg: sa.Connection, pattern: str, texts: list[str], expected: list[bool]
) -> None:
    assert everywhere(pg, pattern, texts) == expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("pattern", "texts", "expected"),
    [
        ("a.b", ["a\nb", "a\rb", "ab"], [True, True, False]),
        ("a[^x]b", ["a\nb", "axb"], [True, False]),
        ("a\\Wb", ["a\nb", "a_b"], [True, False]),
        ("a$", ["a", "a\n", "ba"], [True, False, True]),
        ("^a", ["a", "\na", "ab"], [True, False, True]),
        ("^*a$*", ["a", "ba"], [True, True]),
        ("(?:)*a(^|$)+", ["a", "ab", "ba"], [True, False, True]),
        ("a{0}b|", ["", "x"], [True, True]),
        ("a<b>c", ["a<b>c", "a b c"], [True, False]),
        ("".join("\\" + p for p in string.punctuation), [string.punctuation], [True]),
        ("[\\]\\-\\^\\\\]+$", ["]-^\\", "a"], [True, False]),
        ("[]a]", ["]", "a", "b"], [True, True, False]),
        ("[-a]x[a-]", ["-x-", "axa", "bxb"], [True, True, False]),
        ("[\\d\\D]", ["\n", "x"], [True, True]),
        ("[^\\d\\D]", ["\n", "x", ""], [False, False, False]),
        ("😀+", ["x😀"], [True]),
        # Georgian Mtavruli folds to Mkhedruli: a narrow range gains the folds,
        # one over 5,000 code points wide is kept as written.
        ("[\\u1c90-\\u1cbf]", ["\u1c90", "\u10d0"], [True, True]),
        ("[\\u1c90-\\u4000]", ["\u1c90", "\u10d0", "\u1cc0"], [False, False, True]),
    ],
)
def test_engines_read_the_edges_alike(
    pg: sa.Connection, pattern: str, texts: list[str], expected: list[bool]
) -> None:
    assert everywhere(pg, pattern, texts) == expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("pattern", "expected"), [("(a+)+$", False), ("(a|aa)*b", False), ("(.*a){20}", True)]
)
def test_catastrophic_patterns_run_in_linear_time(
    pg: sa.Connection, pattern: str, expected: bool
) -> None:
    assert everywhere(pg, pattern, ["a" * 100_000 + "!"]) == [expected]


_CJK_CLASS = "[" + "".join(chr(c) for c in range(0x4E00, 0x4E00 + 2 * 900, 2)) + "]"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "pattern",
    [
        "(?:(?:abcdefghij){10}){10}",
        "(?:(?:..........){10}){10}",
        "(?:(?:ßßßßß){10}){10}",
        "(?:(?:a|b|c|d|e|f|g|h|i|j){10}){10}",
        _CJK_CLASS + "{100}",
        "(?:a?){100}(?:b?){20}",
        "(?:[^a-z]{0,100}){10}",
    ],
)
def test_patterns_at_the_limits_compile_everywhere(pg: sa.Connection, pattern: str) -> None:
    parse_pattern(pattern)
    everywhere(pg, pattern, ["ab" * 500, "x" * 2_000, "abcdefghij" * 1_000])


# --- folding and generating ---------------------------------------------------------


def test_folding_makes_a_new_tree() -> None:
    tree = parse_pattern("AB[C-E]ß*")
    folded = fold_pattern(tree)
    assert tree == parse_pattern("AB[C-E]ß*")
    assert folded == Concat(
        (
            Literal("a"),
            Literal("b"),
            CharClass(False, ((0x43, 0x45), (0x63, 0x65))),
            Repeat(Group(Concat((Literal("s"), Literal("s")))), 0, None),
        )
    )


def test_classes_gain_one_character_folds_of_narrow_ranges_only() -> None:
    assert fold_pattern(parse_pattern("[K]")) == CharClass(False, ((0x4B, 0x4B), (0x6B, 0x6B)))
    # ß folds to two characters, so the class keeps only ß itself.
    assert fold_pattern(parse_pattern("[ß]")) == CharClass(False, ((0xDF, 0xDF),))
    wide = parse_pattern("[\\u0041-\\u2000]")
    assert fold_pattern(wide) == wide


def test_set_escapes_are_ascii_and_fixed_at_parse_time() -> None:
    word = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
    assert parse_pattern("\\w") == CharClass(False, word)
    assert parse_pattern("\\W") == CharClass(True, word)
    assert parse_pattern("\\s") == CharClass(False, ((0x09, 0x0D), (0x20, 0x20)))
    assert parse_pattern("\\D") == CharClass(True, ((0x30, 0x39),))


def test_each_dialect_spells_the_same_tree() -> None:
    tree = fold_pattern(parse_pattern("^a.$|[^-]{2,}?(?:x|y)+"))
    assert to_re2(tree) == "^a(?s:.)$|[^\\x{2D}]{2,}(?:x|y)+"
    assert to_rust(tree) == to_re2(tree)
    assert to_postgres(tree) == "^a.$|[^\\u002D]{2,}(?:x|y)+"
    assert translate("😀\\x7f", "postgres") == "\\U0001F600\\u007F"
    assert translate("^*(?:)+$?", "re2") == ""
    assert Start() != End()


def test_translate_rejects_an_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="unknown regex dialect"):
        translate("a", "oracle")  # type: ignore[arg-type]


# --- rejections -----------------------------------------------------------------------

_BIG = "(?:(?:abcdefghijk){10}){100}"
REJECTED = [
    ("ab\\1", 2, "backreference"),
    ("a(?=b)", 1, "lookahead"),
    ("a(?!b)", 1, "lookahead"),
    ("(?<=a)b", 0, "lookbehind"),
    ("(?<!a)b", 0, "lookbehind"),
    ("x(?P<name>a)", 1, "named group"),
    ("(?<name>a)", 0, "named group"),
    ("(?P=name)", 0, "backreference"),
    ("\\k<name>", 0, "backreference"),
    ("(?i)abc", 0, "inline flags"),
    ("a(?i:b)", 1, "inline flags"),
    ("\\bword", 0, "\\b"),
    ("a\\B", 1, "\\B"),
    ("\\Aa", 0, "\\A"),
    ("a\\z", 1, "\\z"),
    ("a\\Z", 1, "\\Z"),
    ("\\Ga", 0, "\\G"),
    ("a\\q", 1, "unknown escape"),
    ("\\e", 0, "unknown escape"),
    ("\\p{L}", 0, "Unicode properties"),
    ("\\x{41}", 0, "hex digits"),
    ("\\u12", 0, "hex digits"),
    ("a\\", 1, "lone \\"),
    ("(?>a+)b", 0, "atomic"),
    ("a++", 2, "possessive"),
    ("a{2}+", 4, "possessive"),
    ("(?#note)", 0, "comments"),
    ("(?%a)", 0, "unknown group"),
    ("x[[:alpha:]]", 2, "POSIX"),
    ("[a[b]", 2, "[ inside a class"),
    ("a{", 1, "{"),
    ("a{x}", 1, "{"),
    ("a{,3}", 1, "{"),
    ("a{1,2", 1, "{"),
    ("{2}", 0, "nothing to repeat"),
    ("*a", 0, "nothing to repeat"),
    ("a**", 2, "nothing to repeat"),
    ("a*??", 3, "nothing to repeat"),
    ("(*)", 1, "nothing to repeat"),
    ("a|+b", 2, "nothing to repeat"),
    ("(ab", 0, "never closed"),
    ("a(b(c)", 1, "never closed"),
    ("ab)", 2, "unmatched )"),
    ("x[abc", 1, "unterminated class"),
    ("[]", 0, "empty class"),
    ("[^]", 0, "empty class"),
    ("[z-a]", 1, "reversed"),
    ("[a-\\d]", 1, "range"),
    ("[a-c-e]", 4, "-"),
    ("a{3,2}", 1, "counts down"),
    ("a{101}", 2, "at most 100"),
    ("a{1,101}", 4, "at most 100"),
    ("x((a{10}){10}){11}", 14, "grows beyond"),
    (_BIG, _BIG.rindex("{"), "grows beyond"),
    ("(?:" + _CJK_CLASS + "{100}){2}", len(_CJK_CLASS) + 9, "too complex"),
    ("b(?:(?:a?){100}){2}", 16, "optional parts"),
    ("a" * (MAX_PATTERN_LENGTH + 1), MAX_PATTERN_LENGTH, "at most"),
    ("(" * (MAX_DEPTH + 1) + ")" * (MAX_DEPTH + 1), MAX_DEPTH, "nest"),
    ("a\x00", 1, "NUL"),
    ("\\x00", 0, "NUL"),
    ("[\\u0000]", 1, "NUL"),
    ("\\0", 0, "NUL"),
    ("a\ud800", 1, "surrogate"),
    ("[a-\\udc00]", 3, "surrogate"),
]


@pytest.mark.parametrize(("pattern", "offset", "words"), REJECTED, ids=lambda x: repr(x)[:30])
def test_unsupported_constructs_are_pointed_at(pattern: str, offset: int, words: str) -> None:
    with pytest.raises(PatternError) as caught:
        parse_pattern(pattern)
    error = caught.value
    assert words in error.message, error.message
    assert (error.offset, bool(error.hint)) == (offset, True)
    assert 1 <= error.length <= len(pattern) - offset


FUZZ_ALPHABET = "()[]{}|*+?.^$\\-:=!<>P'#,0123456789aAbdDwWsSxuzZkK ß\n"


SEEDS = [pattern for pattern, *_ in REJECTED if len(pattern) < 100]
SEEDS += ["^AB-[0-9]+$", "(?:a|b)*?c{2,}", "[^\\d\\s]+$", "[]a-]|[\\]\\-]", "x(y(z)?)+|ß{1,3}"]


@st.composite
def mutated_patterns(draw: st.DrawFn) -> str:
    text = list(draw(st.sampled_from(SEEDS) | patterns))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(FUZZ_ALPHABET) | any_char)
        if how == "insert" or at == len(text):
            text.insert(at, char)
        elif how == "delete":
            del text[at]
        else:
            text[at] = char
    return "".join(text)


fuzz_inputs = st.one_of(
    st.text(max_size=60),
    st.text(st.sampled_from(FUZZ_ALPHABET), max_size=40),
    mutated_patterns(),
)


@settings(max_examples=examples(5000, 500))
@given(pattern=fuzz_inputs)
def test_parser_raises_nothing_but_pattern_errors(pattern: str) -> None:
    error = rejection(pattern)
    if error is not None:
        assert error.hint
        assert 0 <= error.offset <= len(pattern)
        assert error.length >= 1
        return
    compile_search(pattern)(fold(pattern))
    pl.Series([fold(pattern)], dtype=pl.String).str.contains(translate(pattern, "rust"))
    translate(pattern, "postgres")
