"""An iterative JSON decoder for documents nested too deeply for `json.loads`.

The standard decoder recurses (in C, bounded by the interpreter's recursion limit), so a plan a
thousand levels deep (three JSON levels per plan level) raises RecursionError there. This
decoder uses an explicit stack: slower, but only used as the fallback for such documents.
Scalars are decoded by `json.JSONDecoder.raw_decode`, so string escapes and numbers follow the
standard library exactly.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JSONSyntaxError", "loads_iterative"]

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = json.JSONDecoder()


class JSONSyntaxError(ValueError):
    """Malformed JSON; ``pos`` is the character offset of the problem."""

    def __init__(self, msg: str, pos: int) -> None:
        self.msg = msg
        self.pos = pos
        super().__init__(f"{msg} at char {pos}")


def loads_iterative(text: str) -> Any:
    """Decode ``text`` like `json.loads`, with no recursion however deep it nests."""
    # Each stack entry is the container being filled and, for objects, the pending key.
    stack: list[tuple[list[Any] | dict[str, Any], str | None]] = []
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    n = len(text)
    while True:
        # read one value; an opened container is filled by later turns of the loop
        if pos >= n:
            raise JSONSyntaxError("Expecting value", pos)
        ch = text[pos]
        if ch == "{":
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            if pos < n and text[pos] == "}":
                value: Any = {}
                pos += 1
            else:
                key, pos = _read_key(text, pos)
                stack.append(({}, key))
                continue
        elif ch == "[":
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            if pos < n and text[pos] == "]":
                value = []
                pos += 1
            else:
                stack.append(([], None))
                continue
        else:
            try:
                value, pos = _SCALAR.raw_decode(text, pos)
            except json.JSONDecodeError as err:
                raise JSONSyntaxError(err.msg, err.pos) from None
            if isinstance(value, list | dict):  # raw_decode only ever sees scalars here
                raise JSONSyntaxError("Expecting value", pos)
        # attach `value` to the innermost open container, closing containers as they end
        while True:
            if not stack:
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                if pos != n:
                    raise JSONSyntaxError("Extra data", pos)
                return value
            container, pending_key = stack[-1]
            if isinstance(container, dict):
                assert pending_key is not None
                container[pending_key] = value
            else:
                container.append(value)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= n:
                raise JSONSyntaxError("Unterminated container", pos)
            ch = text[pos]
            closer = "}" if isinstance(container, dict) else "]"
            if ch == ",":
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                if isinstance(container, dict):
                    key, pos = _read_key(text, pos)
                    stack[-1] = (container, key)
                break
            if ch == closer:
                pos += 1
                stack.pop()
                value = container
                continue
            raise JSONSyntaxError(f"Expecting ',' or '{closer}'", pos)


def _read_key(text: str, pos: int) -> tuple[str, int]:
    """Read ``"key" :`` starting at ``pos``; return the key and the position after the colon."""
    if pos >= len(text) or text[pos] != '"':
        raise JSONSyntaxError("Expecting property name enclosed in double quotes", pos)
    try:
        key, pos = _SCALAR.raw_decode(text, pos)
    except json.JSONDecodeError as err:
        raise JSONSyntaxError(err.msg, err.pos) from None
    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
    if pos >= len(text) or text[pos] != ":":
        raise JSONSyntaxError("Expecting ':' delimiter", pos)
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    return key, pos
