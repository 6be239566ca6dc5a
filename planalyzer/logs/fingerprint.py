"""Which log entries are "the same query": pglast fingerprints and normalised text.

The fingerprint is libpg_query's (through pglast): it ignores constants, parameter numbers,
whitespace and comments, and depends only on the query text, so it agrees across servers and
versions — unlike the server's ``queryid``, which hashes object OIDs and so differs between
two servers holding the same schema. Text that pglast cannot parse (a truncated statement,
syntax of a newer server) falls back to the ``queryid`` when the entry carries one, else to a
hash of its whitespace-collapsed text.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from pglast import parser as pg_parser

__all__ = ["GROUP_BY", "fingerprint", "group_key", "normalized_text"]

GROUP_BY = ("fingerprint", "queryid")
"""Grouping modes: ``fingerprint`` (default; queryid only when the text does not parse) or
``queryid`` (the server's identifier whenever the entry carries one, else the fingerprint)."""

_CACHE = 8192  # distinct statement texts remembered; bounds memory, a workload repeats texts


@lru_cache(maxsize=_CACHE)
def fingerprint(query: str) -> str | None:
    """libpg_query's fingerprint of a statement, or None when pglast cannot parse it.

    Example:
        >>> fingerprint("SELECT * FROM t WHERE id = 1") == fingerprint("select * from t where id=2")
        True
    """
    try:
        return str(pg_parser.fingerprint(query))
    except Exception:  # pglast raises ParseError, but also other errors on odd input
        return None


@lru_cache(maxsize=_CACHE)
def normalized_text(query: str) -> str:
    r"""The statement with constants replaced by ``$n``, comments dropped, whitespace collapsed.

    Comments go because the fingerprint ignores them too: tags such as sqlcommenter's trace ids
    would otherwise make every entry of one group look different.

    Example:
        >>> normalized_text("/* app:web */ SELECT *\n  FROM t WHERE id = 42 -- hot")
        'SELECT * FROM t WHERE id = $1'
    """
    try:
        text = str(pg_parser.normalize(query))
        # Token ends are inclusive; cut comments from the end so earlier offsets stay valid.
        for token in reversed(pg_parser.scan(text)):
            if token.name in ("C_COMMENT", "SQL_COMMENT"):
                text = text[: token.start] + " " + text[token.end + 1 :]
    except Exception:  # unparseable text is shown as logged
        text = query
    return " ".join(text.split())


def group_key(query: str, query_id: int | None, group_by: str = "fingerprint") -> str:
    """The key an entry is grouped under (see `GROUP_BY`).

    Example:
        >>> group_key("SELECT 1", 42, "queryid")
        'queryid:42'
        >>> group_key("not sql at all (", 42)
        'queryid:42'
    """
    if group_by == "queryid" and query_id is not None:
        return f"queryid:{query_id}"
    found = fingerprint(query)
    if found is not None:
        return found
    if query_id is not None:
        return f"queryid:{query_id}"
    digest = hashlib.blake2b(" ".join(query.split()).encode(), digest_size=8).hexdigest()
    return f"text:{digest}"
