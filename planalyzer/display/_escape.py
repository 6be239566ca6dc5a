"""The single place where text becomes HTML: every string from a plan passes through `escape`.

Plans carry user data (relation names, filter literals, SQL), so the HTML views never format
a plan string into markup directly. They build elements with `el`, which escapes every plain
``str`` child and every attribute value; only `Markup` (already-built HTML) passes through
unchanged. A ``<script>`` in a filter therefore renders as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

__all__ = ["Markup", "el", "escape", "join"]


class Markup(str):
    """A string of HTML that is already safe; `el` inserts it as is.

    Only this module creates it from parts, so the escaping decision stays in one place.
    """

    __slots__ = ()


def escape(text: object) -> Markup:
    """Escape any value for use as HTML text or a quoted attribute value.

    Example:
        >>> escape("<script>alert('x')</script> & co")
        '&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co'
    """
    if isinstance(text, Markup):
        return text
    return Markup(html.escape(str(text), quote=True))


def _flatten(children: Iterable[object]) -> Iterable[object]:
    stack = [iter(children)]
    while stack:
        for child in stack[-1]:
            if child is None or child is False:
                continue
            if isinstance(child, str | int | float):
                yield child
            else:
                stack.append(iter(child))  # type: ignore[call-overload]
                break
        else:
            stack.pop()


def join(children: Iterable[object]) -> Markup:
    """Concatenate children (escaping plain strings) into one `Markup`."""
    return Markup("".join(escape(child) for child in _flatten(children)))


def el(tag: str, *children: object, cls: str | None = None, **attrs: object) -> Markup:
    """One element: ``el("td", "a<b", cls="pa-num")`` → ``<td class="pa-num">a&lt;b</td>``.

    Children may be strings (escaped), `Markup`, numbers, None (skipped) or iterables of those.
    Attribute names come from code, values are escaped; ``None`` values are left out and a
    trailing underscore is dropped from a name (``for_`` → ``for``).

    Example:
        >>> el("td", "a<b", cls="pa-num", title=None)
        '<td class="pa-num">a&lt;b</td>'
    """
    parts = [tag]
    if cls:
        parts.append(f'class="{escape(cls)}"')
    for name, value in attrs.items():
        if value is None:
            continue
        parts.append(f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"')
    return Markup(f"<{' '.join(parts)}>{join(children)}</{tag}>")
