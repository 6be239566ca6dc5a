"""Parse HTML with the standard library and check it is well formed; collect tags and text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"br", "hr", "img", "meta", "input", "link", "col", "wbr"}


@dataclass
class ParsedHtml:
    tags: list[str] = field(default_factory=list)
    attrs: list[dict[str, str | None]] = field(default_factory=list)
    text: str = ""
    errors: list[str] = field(default_factory=list)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.result = ParsedHtml()
        self.stack: list[str] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.result.tags.append(tag)
        self.result.attrs.append(dict(attrs))
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.result.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if "style" not in self.stack:
            self.chunks.append(data)


def parse_html(markup: str) -> ParsedHtml:
    """Tags in order, visible text (style sheet excluded) and nesting errors of ``markup``."""
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    if checker.stack:
        checker.result.errors.append(f"unclosed tags: {checker.stack[-5:]}")
    checker.result.text = "".join(checker.chunks)
    return checker.result


def assert_well_formed(markup: str) -> ParsedHtml:
    parsed = parse_html(markup)
    assert not parsed.errors, parsed.errors[:5]
    assert parsed.tags[0] == "div"
    assert "pa-view" in (parsed.attrs[0].get("class") or "")
    assert "script" not in parsed.tags
    return parsed
