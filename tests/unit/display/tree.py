"""An element tree of a view's HTML (standard library only), for structural checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"br", "hr", "img", "meta", "input", "link", "col", "wbr"}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    content: list[Element | str] = field(default_factory=list)  # text and children, in order

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    @property
    def descendants(self) -> Iterator[Element]:
        stack = list(reversed(self.children))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    @property
    def text(self) -> str:
        """All text inside, style sheets excluded."""
        parts: list[str] = []
        stack: list[Element | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            elif item.tag != "style":
                stack.extend(reversed(item.content))
        return "".join(parts)


@dataclass
class Tree:
    root: Element
    elements: list[Element]
    by_id: dict[str, Element]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.current = self.root
        self.elements: list[Element] = []

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs}, parent=self.current)
        self.current.children.append(element)
        self.current.content.append(element)
        self.elements.append(element)
        if tag not in _VOID:
            self.current = element

    def handle_endtag(self, tag):
        assert self.current.tag == tag, (self.current.tag, tag)
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data):
        self.current.content.append(data)


def parse_tree(markup: str) -> Tree:
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    assert builder.current is builder.root, "unclosed elements"
    by_id = {e.attrs["id"]: e for e in builder.elements if "id" in e.attrs}
    return Tree(root=builder.root, elements=builder.elements, by_id=by_id)
