"""Bound keys' characters and footer labels, found without Unicode's name tables.

Textual asks `unicodedata.lookup` whether a key's name ("f3", "escape",
"question_mark") names a character: once per bound key when it decides which keys a
focused input would take (`textual.keys.key_to_character`, from `Screen`'s binding
chain), and again for each key the footer shows (`App.get_key_display` through
`format_key`). Each search pages in parts of the name tables; for the board's F-keys
that is about 0.5 MiB of every operator's peak memory (issue 15), for answers that are
fixed: no letter, digit or function key names a character, and the few named keys the
app binds are listed here. Any other key is still Textual's to look up.

`install()` makes the screens use `key_to_character`; the app's `get_key_display` uses
`key_display`. `tests/test_key_names.py` holds both to Textual's own answers.
"""

from __future__ import annotations

import re

from textual.keys import KEY_DISPLAY_ALIASES
from textual.keys import key_to_character as _textual_key_to_character

# Letters, digits and function keys: no Unicode character is named after one.
_PLAIN = re.compile(r"[A-Za-z0-9]|f[1-9]|f1[0-9]|f2[0-4]")

# The named keys Control Room binds, with the character Textual finds for each (None:
# the name is no character's).
NAMED_CHARACTERS: dict[str, str | None] = {
    "backspace": "\b",
    "colon": ":",
    "delete": "\x7f",
    "down": None,
    "end": None,
    "enter": None,
    "escape": "\x1b",
    "home": None,
    "insert": None,
    "left": None,
    "pagedown": None,
    "pageup": None,
    "question_mark": "?",
    "right": None,
    "space": " ",
    "tab": "\t",
    "up": None,
}

# The named keys whose label is the character itself (Textual's `format_key`).
_NAMED_LABELS = {
    "colon": ":",
    "question_mark": "?",
    "tab": "tab",
    "home": "home",
    "end": "end",
    "insert": "insert",
}


def key_to_character(key: str) -> str | None:
    """What `textual.keys.key_to_character` answers for `key`."""
    _, modified, name = key.rpartition("+")
    if modified:
        return None
    if len(name) == 1:
        return name
    if name in NAMED_CHARACTERS:
        return NAMED_CHARACTERS[name]
    if _PLAIN.fullmatch(name):
        return None
    return _textual_key_to_character(key)


def key_display(key: str) -> str | None:
    """How `App.get_key_display` shows `key` ("ctrl+s" as "^s", "escape" as "esc"); None
    for a key this module does not know (Textual's own lookup shows those)."""
    *modifiers, name = key.split("+")
    if _PLAIN.fullmatch(name):
        label = name
    elif name in KEY_DISPLAY_ALIASES:
        label = KEY_DISPLAY_ALIASES[name]
    elif name in _NAMED_LABELS:
        label = _NAMED_LABELS[name]
    else:
        return None
    if "ctrl" in modifiers:
        modifiers.remove("ctrl")
        label = f"^{label}"
    return "+".join([*modifiers, label])


def install() -> None:
    """Make Textual's screens find a bound key's character with `key_to_character`."""
    from textual import screen

    screen.key_to_character = key_to_character  # type: ignore[assignment]
