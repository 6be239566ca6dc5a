"""The reader's fast paths give exactly what its general paths give.

Reading text is tuned for the common input (EXPLAIN output pasted as it is: no framing, one
``Label: value`` per line). Each shortcut must be invisible: these properties compare it with
the general code it skips, on generated lines built from the pieces that decide between them.
"""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from planalyzer.plan.text._frame import (
    OTHER_WHITESPACE,
    _framed_lines,
    _no_other_whitespace,
    _plain_lines,
    frame_lines,
)
from planalyzer.plan.text._props import _KEY, parse_property, read_property_line, scalar

# Pieces of plan lines and of the framing around them: spaces, arrows, labels, psql's header,
# rule, footer, prompt and borders, csv quotes, whitespace other than spaces.
_PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "      ",
        "->  ",
        "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)",
        "Filter: (a = 1)",
        "Buffers: shared hit=3",
        "Output: a, (b)::text",
        "QUERY PLAN",
        "----------",
        "(2 rows)",
        "Time: 1.2 ms",
        "db=# ",
        "EXPLAIN SELECT 1;",
        "|",
        "│",
        '"',
        "+",
        "\t",
        "\xa0",
        "Planning Time: 0.1 ms",
        "x",
    ]
)
_LINE = st.lists(_PIECES, max_size=5).map("".join)


@settings(max_examples=400)
@given(st.lists(_LINE, min_size=1, max_size=12))
def test_unframed_text_reads_the_same_lines_as_the_general_path(lines: list[str]) -> None:
    text = "\n".join(lines)
    plain = _plain_lines(lines, only_spaces=_no_other_whitespace(text))
    if plain is not None:
        assert plain == _framed_lines(enumerate(lines, 1))
    assert isinstance(frame_lines(text), list)


def test_other_whitespace_lists_every_character_strip_removes() -> None:
    every = "".join(
        ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace() and ch not in " \n"
    )
    assert every == OTHER_WHITESPACE


_LABELS = st.sampled_from(
    [
        "Filter",
        "Output",
        "Rows Removed by Filter",
        "Buffers",
        "Sort Method",
        "Heap Fetches",
        "Some Future Key",
        "lower key",
        "Key:With Colon",
        "Key_2 (x)",
    ]
)
_VALUES = st.one_of(
    st.sampled_from(
        ["", " 5", "12", "-3", "1.5", "true", "x, y", "shared hit=3", "quicksort  Memory: 25kB"]
    ),
    st.text(alphabet="ab1 :,'()-.", max_size=12),
)


def _general(line: str, out: dict[str, object]) -> bool:
    """The general path: the label by the full regex, then parse_property."""
    m = _KEY.match(line)
    if m is None or not m[2]:
        return False
    return parse_property(m[1], m[2], out)


@settings(max_examples=600)
@given(_LABELS, st.sampled_from([": ", ":  ", ":", " : "]), _VALUES, st.booleans())
def test_one_property_line_reads_as_the_general_path_reads_it(
    label: str, separator: str, value: str, seen_before: bool
) -> None:
    line = label + separator + value
    fast: dict[str, object] = {label: "earlier"} if seen_before else {}
    general = dict(fast)
    assert read_property_line(line, fast) == _general(line, general)
    assert fast == general


@given(st.integers())
def test_scalar_reads_an_integer_as_an_int(number: int) -> None:
    value = scalar(str(number))
    assert value == number
    assert type(value) is int


@given(st.from_regex(r"[A-Za-z][\w .:()'-]*", fullmatch=True))
def test_scalar_keeps_a_word_as_text_unless_it_is_a_boolean(value: str) -> None:
    expected: object = {"true": True, "false": False}.get(value, value)
    assert scalar(value) == expected
