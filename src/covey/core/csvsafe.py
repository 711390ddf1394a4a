"""CSV cells that spreadsheets will not execute.

A cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab/carriage return) is read by Excel and
LibreOffice as a formula; an exported customer name such as ``=HYPERLINK(...)`` would run on the
reader's machine. Text cells get a leading apostrophe, which spreadsheets hide; numbers are left
alone so a negative amount stays a number. ``unneutralise`` undoes it on re-import.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
