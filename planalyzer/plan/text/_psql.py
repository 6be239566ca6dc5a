"""The lines psql prints around a result, as patterns: header, rules, footer, timing, prompt.

Shared by the framing of a whole paste (`_frame`) and the joining of rows a window broke
(`_wrapped`), which must never take one of these for the rest of a row.
"""

from __future__ import annotations

import re

__all__ = ["COMMAND_TAG", "ECHO", "FOOTER", "HEADER", "PROMPT", "RULE", "TIMING"]

HEADER = re.compile(r"^\s*QUERY PLAN\s*$")
# Rules of any psql linestyle: ASCII, and the Unicode box-drawing block (single and double)
RULE = re.compile(r"^\s*[-+=\u2500-\u257f]+\s*$")
# "(3 rows)", and as a localised psql prints it: "(3 lignes)", "(3 Zeilen)", "(1 fila)"
FOOTER = re.compile(r"^\s*\(\d+ [^\W\d_]+\)\s*$")
# \timing's line, localised too ("Temps : 0,305 ms"): one word, a colon, a number of ms
TIMING = re.compile(r"^[^\W\d_]+ ?: \d+(?:[.,]\d+)? ms\b")
# psql's prompt (PROMPT1 %R is one of = - ( * ' " ^ !), after any prompt text without spaces
# ("db=# ", "[14003](2038152)postgres@bench=# ")
PROMPT = re.compile(r"^[^\s#>]*[\w\])][=\-(*'\"^!][#>](?: |$)")
ECHO = re.compile(r"^\s*explain\b", re.IGNORECASE)
# A psql command tag printed after a statement: "SET", "INSERT 0 1", "CREATE TABLE"
COMMAND_TAG = re.compile(r"^[A-Z]+(?: [A-Z]+)*(?: \d+)*$")
