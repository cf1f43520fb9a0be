"""How a failed service call reads on screen, in one place for every screen.

A refusal by the permission table (`services.access.PermissionDenied`, and the merge and
staff refusals built on it) is a PermissionError whose message is already the sentence
for the operator ("As a call handler you may not read restricted intelligence reports.
Ask ..."): it is shown as it is, with no exception name and no hint that the database
failed. Anything else is shown with its kind, as before. No service module is imported
here (screens load before SQLAlchemy); PermissionError is a builtin.
"""

from __future__ import annotations


def is_refusal(exc: BaseException) -> bool:
    """True when the operator was refused (their role may not), not when something broke."""
    return isinstance(exc, PermissionError)


def failure_text(exc: BaseException) -> str:
    """The words for a failed call: a refusal's own sentence, or `Kind: message`."""
    if is_refusal(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
