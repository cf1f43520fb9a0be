"""Checks on typed input that every service shares, and the error that names the field.

A screen shows `FieldError.message` at the field named by `FieldError.field` and keeps
what was typed. Text is stored exactly as typed (markup, brackets, emoji, right-to-left
scripts, zero-width characters, which the view makes visible) with exceptions that are
refused at the field, never silently changed (`domain.safe_text.unsafe_character`): the
C0 control characters (NUL cannot be stored by PostgreSQL at all; ESC and friends are
terminal commands, not words), DEL, the C1 controls (U+009B is a CSI), the bidirectional
controls (U+202E makes a record read differently from what it stores), the Unicode line
separators, and in single-line fields a line break. Leading and trailing whitespace is
trimmed.
"""

from __future__ import annotations

from datetime import date

from controlroom.domain.incidents import normalise_phone
from controlroom.domain.safe_text import control_message, unsafe_character


class FieldError(ValueError):
    """Input that cannot be used, with the field it belongs to and what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def text(
    value: str | None,
    field: str,
    label: str,
    *,
    limit: int,
    error: type[FieldError] = FieldError,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """`value` trimmed and checked: required, no control characters, at most `limit`.

    Multi-line text keeps tabs and line feeds; a Windows line end (CR LF) or a lone CR
    from a paste becomes LF, the one line end the record keeps.
    """
    cleaned = value or ""
    if multiline:
        cleaned = cleaned.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = cleaned.strip()
    if required and not cleaned:
        raise error(field, f"{label} is required")
    found = unsafe_character(cleaned, multiline=multiline)
    if found is not None:
        raise error(field, control_message(label, found))
    if len(cleaned) > limit:
        raise error(field, f"{label} is {len(cleaned):,} characters; the limit is {limit:,}")
    return cleaned


def optional_text(
    value: str | None,
    field: str,
    label: str,
    *,
    limit: int,
    error: type[FieldError] = FieldError,
    multiline: bool = False,
) -> str | None:
    """As `text`, with an empty answer stored as NULL (not given)."""
    return text(value, field, label, limit=limit, error=error, multiline=multiline) or None


def phone(value: str | None, field: str, *, error: type[FieldError] = FieldError) -> str | None:
    if not (value or "").strip():
        return None
    try:
        return normalise_phone(value or "")
    except ValueError as exc:
        raise error(field, str(exc)) from None


def date_of_birth(
    value: date | None,
    today: date,
    field: str = "date_of_birth",
    *,
    error: type[FieldError] = FieldError,
) -> date | None:
    if value is None:
        return None
    if value > today:
        raise error(field, "date of birth is in the future")
    if value.year < 1900:
        raise error(field, "date of birth is before 1900; check the year")
    return value
