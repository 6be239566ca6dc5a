"""Statement fingerprints: one id for every run of "the same query" whatever its values.

pglast's fingerprint (libpg_query's: the parse tree with constants, parameter numbers and
lists of constants abstracted away) is the id. psycopg's ``%s`` / ``%(name)s`` placeholders are
not SQL, so they are turned into ``$n`` first. Text pglast cannot parse gets a fingerprint of
its whitespace-collapsed text instead, prefixed ``text:``, so it still groups exact repeats.
"""

from __future__ import annotations

import functools
import hashlib
import re

__all__ = ["fingerprint", "to_dollar_params"]

# %% is a literal percent; %s, %b, %t and %(name)s are psycopg placeholders (with or without a
# format letter after the name).
_PLACEHOLDER = re.compile(r"%%|%\((?P<name>[^)]+)\)[sbt]|%[sbt]")


def to_dollar_params(sql: str) -> str:
    """``%s`` / ``%(name)s`` placeholders as ``$1``, ``$2`` (one number per distinct name).

    Example:
        >>> to_dollar_params("SELECT %s, %(a)s, %(a)s, '100%%'")
        "SELECT $1, $2, $2, '100%'"
    """
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        key = match.group("name") or f"#{len(numbers)}"
        numbers.setdefault(key, len(numbers) + 1)
        return f"${numbers[key]}"

    return _PLACEHOLDER.sub(number, sql)


@functools.lru_cache(maxsize=4096)
def fingerprint(sql: str, *, has_params: bool = False) -> str:
    """The fingerprint of a statement (see the module docstring).

    Args:
        sql: the statement as sent.
        has_params: it was sent with parameters, so ``%`` placeholders are psycopg's.

    Example:
        >>> fingerprint("SELECT * FROM t WHERE id = 1") == fingerprint("select * from t where id=2")
        True
        >>> fingerprint("SELECT * FROM t WHERE id = %s", has_params=True) == fingerprint(
        ...     "SELECT * FROM t WHERE id = $1")
        True
    """
    from pglast import parser

    text = to_dollar_params(sql) if has_params else sql
    try:
        return str(parser.fingerprint(text))
    except Exception:  # pglast.parser.ParseError and odd input alike: fall back to the text
        collapsed = " ".join(sql.split()).lower().encode("utf-8", "replace")
        return "text:" + hashlib.sha1(collapsed, usedforsecurity=False).hexdigest()[:16]
