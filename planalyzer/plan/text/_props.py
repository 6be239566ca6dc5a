"""Property lines of text-format EXPLAIN -> the JSON keys EXPLAIN (FORMAT JSON) prints for them.

Most properties are ``Label: value`` with the JSON key as the label (``ExplainProperty*`` in
explain.c); the rest are the compact lines explain.c writes by hand in text format only
(``Buffers: shared hit=3 read=1``, ``Sort Method: quicksort  Memory: 25kB``, ``Buckets: ...``,
``Hits: ... Misses: ...``, ``Heap Blocks: exact=...``, ``WAL: ...``, ``I/O Timings: ...``), whose
parts map to several JSON keys. A label this module does not know keeps its text as the value
(a number or boolean when it reads as one), so nothing printed is lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "LIST_KEYS",
    "TEXT_KEYS",
    "parse_property",
    "read_property_line",
    "scalar",
    "split_key",
    "split_list",
]

Props = dict[str, Any]

LIST_KEYS = frozenset(
    {
        "Output",
        "Sort Key",
        "Presorted Key",
        "Group Key",
        "Hash Key",
        "Conflict Arbiter Indexes",
        "Params Evaluated",
        "Sampling Parameters",
    }
)
TEXT_KEYS = frozenset(
    {
        "Filter",
        "Index Cond",
        "Recheck Cond",
        "Join Filter",
        "Hash Cond",
        "Merge Cond",
        "TID Cond",
        "Order By",
        "One-Time Filter",
        "Run Condition",
        "Cache Key",
        "Cache Mode",
        "Conflict Resolution",
        "Conflict Filter",
        "Function Call",
        "Table Function Call",
        "Remote SQL",
        "Relations",
        "Window",
        "Query Text",
        "Query Parameters",
        "Sampling Method",
        "Repeatable Seed",
        "Node",
        "Storage",
        "Tasks Shown",
    }
)

_KEY = re.compile(r"^([A-Z][A-Za-z0-9 /()\-_]*?):(?: +(.*))?$")
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?")
_KB = re.compile(r"(-?\d+) ?kB")


def split_key(line: str) -> tuple[str, str] | None:
    """``("Label", "value")`` for a ``Label: value`` line (value "" for ``Label:``), else None."""
    key, sep, value = line.partition(": ")
    if sep and value[:1] != " " and (key in _KEY_NAMES or _is_key_name(key)):
        return key, value  # what _KEY gives, without running it on every property line
    m = _KEY.match(line)
    if m is None:
        return None
    return m[1], (m[2] or "")


_KEY_NAME = re.compile(r"[A-Z][A-Za-z0-9 /()\-_]*")
_KEY_NAMES: set[str] = set()  # labels already seen to fit _KEY_NAME (a plan repeats a few)


def _is_key_name(key: str) -> bool:
    if _KEY_NAME.fullmatch(key) is None:
        return False
    if len(_KEY_NAMES) >= 4096:  # bounded, like re's own cache
        _KEY_NAMES.clear()
    _KEY_NAMES.add(key)
    return True


def scalar(value: str) -> Any:
    """A value of an unknown label: int, float or bool when it reads as one, else the text."""
    if value.isdigit() and value.isascii():
        return int(value)
    first = value[:1]
    if first.isalpha() and value not in ("true", "false"):
        return value  # a number starts with a digit or "-"; JSON starts with [, { or "
    text = value
    for unit in (" ms", " kB"):
        if text.endswith(unit) and (_INT.fullmatch(text[:-3]) or _FLOAT.fullmatch(text[:-3])):
            text = text[:-3]
            break
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    if text[:1] in ("[", "{") or (text[:1] == '"' and "\\n" in text):
        # planalyzer writes keys EXPLAIN has no text form for (and multi-line text) as JSON
        try:
            return json.loads(text)
        except ValueError:
            pass
    return value


_LIST_MARKS = re.compile(r"""[,'"()\[\]{}]""")
_QUOTES_OR_BRACKETS = re.compile(r"""['"()\[\]{}]""")


def split_list(value: str) -> list[str]:
    """Split ``a, f(b, c), 'x, y'`` at top-level commas (ExplainPropertyList's separator).

    Only commas, quotes and brackets are visited (found by a regex, not char by char): on a
    VERBOSE plan this runs for every node's ``Output``.
    """
    if not _QUOTES_OR_BRACKETS.search(value):
        return value.split(", ")  # no quotes or brackets: every ", " separates
    items: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for m in _LIST_MARKS.finditer(value):
        ch = m[0]
        i = m.start()
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth <= 0 and value.startswith(", ", i) and i >= start:
            items.append(value[start:i])
            start = i + 2
    items.append(value[start:])
    return items


def _kb(text: str) -> int:
    m = _KB.fullmatch(text.strip())
    if m is None:
        raise ValueError(text)
    return int(m[1])


def _num(text: str) -> int | float:
    return int(text) if _INT.fullmatch(text) else float(text)


def _pairs(text: str) -> dict[str, str]:
    """``"Buckets: 1024  Batches: 1"`` -> {"Buckets": "1024", "Batches": "1"} (two-space parts)."""
    out: dict[str, str] = {}
    for part in text.split("  "):
        part = part.strip()
        if not part:
            continue
        key, _, value = part.partition(": ")
        out[key.rstrip(":")] = value
    return out


# --- the hand-written text-only lines ---------------------------------------------------------

# ("shared", "hit") -> "Shared Hit Blocks": the JSON key of each counter on a Buffers line
_BLOCK_KEYS = {
    (family, op): f"{family.capitalize()} {op.capitalize()} Blocks"
    for family in ("shared", "local", "temp")
    for op in ("hit", "read", "dirtied", "written")
}


def _buffers(value: str, out: Props) -> None:
    for part in value.split(","):
        words = part.split()
        if not words:
            continue
        family = words[0].lower()
        if family not in ("shared", "local", "temp"):
            raise ValueError(part)
        for pair in words[1:]:
            op, _, count = pair.partition("=")
            out[_BLOCK_KEYS[family, op]] = int(count)


_IO_FAMILIES = {
    "": "I/O {} Time",
    "shared/local": "I/O {} Time",
    "shared": "Shared I/O {} Time",
    "local": "Local I/O {} Time",
    "temp": "Temp I/O {} Time",
}


def _io_timings(value: str, out: Props) -> None:
    for part in value.split(","):
        words = part.split()
        if not words:
            continue
        family = "" if "=" in words[0] else words.pop(0)
        pattern = _IO_FAMILIES[family]
        for pair in words:
            op, _, ms = pair.partition("=")
            out[pattern.format({"read": "Read", "write": "Write"}[op])] = float(ms)


_WAL = re.compile(r"(records|fpi|bytes|buffers full)=(\d+)")
_WAL_KEYS = {
    "records": "WAL Records",
    "fpi": "WAL FPI",
    "bytes": "WAL Bytes",
    "buffers full": "WAL Buffers Full",
}


def _wal(value: str, out: Props) -> None:
    found = _WAL.findall(value)
    if not found or _WAL.sub("", value).strip():
        raise ValueError(value)
    for name, count in found:
        out[_WAL_KEYS[name]] = int(count)


def _sort_method(value: str, out: Props) -> None:
    method, sep, space = value.partition("  ")
    out["Sort Method"] = method
    if sep:
        kind, _, used = space.partition(": ")
        out["Sort Space Used"] = _kb(used)
        out["Sort Space Type"] = kind


_ORIGINALLY = re.compile(r"(\d+)(?: \(originally (\d+)\))?")


def _buckets(value: str, out: Props) -> None:
    parts = _pairs("Buckets: " + value)
    buckets = _ORIGINALLY.fullmatch(parts["Buckets"])
    batches = _ORIGINALLY.fullmatch(parts["Batches"])
    if buckets is None or batches is None:
        raise ValueError(value)
    out["Hash Buckets"] = int(buckets[1])
    out["Original Hash Buckets"] = int(buckets[2] or buckets[1])
    out["Hash Batches"] = int(batches[1])
    out["Original Hash Batches"] = int(batches[2] or batches[1])
    out["Peak Memory Usage"] = _kb(parts["Memory Usage"])


def _hashagg(first: str, value: str, out: Props) -> None:
    parts = _pairs(f"{first}: {value}")
    if "Planned Partitions" in parts:
        out["Planned Partitions"] = int(parts.pop("Planned Partitions"))
    if "Batches" in parts:
        out["HashAgg Batches"] = int(parts.pop("Batches"))
        out["Peak Memory Usage"] = _kb(parts.pop("Memory Usage"))
        out["Disk Usage"] = _kb(parts.pop("Disk Usage", "0kB"))
    if parts:
        raise ValueError(value)


def _memoize(value: str, out: Props) -> None:
    parts = _pairs("Hits: " + value)
    out["Cache Hits"] = int(parts["Hits"])
    out["Cache Misses"] = int(parts["Misses"])
    out["Cache Evictions"] = int(parts["Evictions"])
    out["Cache Overflows"] = int(parts["Overflows"])
    out["Peak Memory Usage"] = _kb(parts["Memory Usage"])


def _heap_blocks(value: str, out: Props) -> None:
    for pair in value.split():
        kind, _, count = pair.partition("=")
        out[{"exact": "Exact Heap Blocks", "lossy": "Lossy Heap Blocks"}[kind]] = int(count)


def _sort_groups(label: str) -> Callable[[str, Props], None]:
    def parse(value: str, out: Props) -> None:
        count, _, rest = value.partition("  ")
        group: Props = {"Group Count": int(count)}
        for part in rest.split("  "):
            key, _, text = part.partition(": ")
            if key in ("Sort Method", "Sort Methods"):
                group["Sort Methods Used"] = text.split(", ")
            elif key.startswith(("Average ", "Peak ")):
                which, _, kind = key.partition(" ")
                space = group.setdefault(f"Sort Space {kind}", {})
                space[f"{which} Sort Space Used"] = _kb(text)
            else:
                raise ValueError(part)
        out[label] = group

    return parse


def _storage(value: str, out: Props) -> None:
    kind, _, rest = value.partition("  ")
    out["Storage"] = kind
    out["Maximum Storage"] = _kb(rest.partition(": ")[2])


_SAMPLING = re.compile(r"(?P<method>\S+) \((?P<params>.*?)\)(?: REPEATABLE \((?P<seed>.*)\))?")


def _sampling(value: str, out: Props) -> None:
    m = _SAMPLING.fullmatch(value)
    if m is None:
        raise ValueError(value)
    out["Sampling Method"] = m["method"]
    out["Sampling Parameters"] = split_list(m["params"]) if m["params"] else []
    if m["seed"] is not None:
        out["Repeatable Seed"] = m["seed"]


def _merge_tuples(value: str, out: Props) -> None:
    counts = dict.fromkeys(("inserted", "updated", "deleted", "skipped"), 0)
    for pair in value.split():
        kind, _, number = pair.partition("=")
        if kind not in counts:
            raise ValueError(pair)
        counts[kind] = int(number)
    for kind, count in counts.items():
        out[f"Tuples {kind.capitalize()}"] = count


# PostgreSQL 17 and 18 print kB (JSON: the same numbers). PostgreSQL's development branch
# prints bytes in its regression output ("used=75776 bytes"); that number is kept as printed.
_MEMORY = re.compile(r"used=(\d+)(?:kB| bytes)  allocated=(\d+)(?:kB| bytes)")


def _memory(value: str, out: Props) -> None:
    m = _MEMORY.fullmatch(value)
    if m is None:
        raise ValueError(value)
    out["Memory Used"] = int(m[1])
    out["Memory Allocated"] = int(m[2])


def _serialization(value: str, out: Props) -> None:
    parts = dict(p.split("=", 1) for p in value.replace(" ms", "ms").split())
    if "time" in parts:
        out["Time"] = float(parts["time"].removesuffix("ms"))
    out["Output Volume"] = _kb(parts["output"])
    out["Format"] = parts["format"]


_SPECIAL: dict[str, Callable[[str, Props], None]] = {
    "Buffers": _buffers,
    "I/O Timings": _io_timings,
    "WAL": _wal,
    "Sort Method": _sort_method,
    "Buckets": _buckets,
    "Hits": _memoize,
    "Heap Blocks": _heap_blocks,
    "Full-sort Groups": _sort_groups("Full-sort Groups"),
    "Pre-sorted Groups": _sort_groups("Pre-sorted Groups"),
    "Storage": _storage,
    "Sampling": _sampling,
    "Tuples": _merge_tuples,
    "Memory": _memory,
    "Serialization": _serialization,
    "Planned Partitions": lambda v, out: _hashagg("Planned Partitions", v, out),
    "Batches": lambda v, out: _hashagg("Batches", v, out),
}


def read_property_line(line: str, out: Props) -> bool:
    """`split_key` then `parse_property` for one ``Label: value`` line, in one call.

    False when the line is not that (no value, not a label, a malformed or repeated value):
    the caller then takes its general path. This is the call made for nearly every line of
    a plan, so a label already seen skips `split_key`'s regex.
    """
    key, sep, value = line.partition(": ")
    if not sep or value[:1] in ("", " ") or not (key in _KEY_NAMES or _is_key_name(key)):
        pair = split_key(line)
        if pair is None or not pair[1]:
            return False
        key, value = pair
    return parse_property(key, value, out)


def parse_property(key: str, value: str, out: Props) -> bool:
    """Add the JSON keys for one ``key: value`` line to ``out``; False if the value is malformed.

    A label seen for the second time on the same node is not overwritten (False as well), so the
    caller can keep the line verbatim instead.
    """
    special = _SPECIAL.get(key)
    if special is not None:
        trial: Props = {}
        try:
            special(value, trial)
        except (ValueError, KeyError, IndexError):
            return False
        if any(k in out for k in trial):
            return False
        out.update(trial)
        return True
    if key in out:
        return False
    if key in LIST_KEYS:
        out[key] = split_list(value) if value else []
    elif key in TEXT_KEYS:
        out[key] = value
    else:
        out[key] = scalar(value)
    return True
