"""CSV cells a spreadsheet opens as text, never as a formula (issue 16).

A cell whose first character is `=`, `+`, `-` or `@` — or the same after leading spaces,
tabs or line breaks, which spreadsheets skip — is read as a formula by Excel, LibreOffice
and Google Sheets (`=HYPERLINK(...)` sends data away, `=cmd|...` ran programs). So is one
that starts with a TAB or a CR. Such a cell is written with a leading apostrophe, the
spreadsheet convention for "this is text"; the value is otherwise untouched. A plain
number ("-1.5800", a longitude) stays a number.

Quoting is the writer's: `csv_writer` quotes every cell holding a comma, a quote, a CR or
a line feed (Python's csv module quoted a CR only when it was in the line terminator, so
a cell holding a CR once started a new row in a spreadsheet).
"""

from __future__ import annotations

import csv
import re
from typing import IO, Any

FORMULA_STARTS = frozenset("=+-@")
# Spreadsheets skip these before deciding a cell is a formula; a cell led by TAB or CR is
# itself treated as one by some.
LEADING_SPACE = " \t\r\n\u00a0"
_PLAIN_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def safe_cell(value: object) -> object:
    """`value` as a CSV cell no spreadsheet runs: text that could start a formula gets a
    leading apostrophe; anything that is not text, and plain numbers, pass unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    first = value.lstrip(LEADING_SPACE)[:1]
    if value[0] in "\t\r" or first in FORMULA_STARTS:
        return "'" + value
    return value


def csv_writer(stream: IO[str]) -> Any:
    """A csv writer with RFC 4180 line ends (CR LF), so that a cell holding a CR or a line
    feed is quoted (the module quotes the characters of its line terminator)."""
    return csv.writer(stream, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
