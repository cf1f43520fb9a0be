"""Record text made safe for a terminal.

Every string that came from a user or the database passes through `printable` before
it reaches the screen — displayed, or pre-filled into an input, or pasted. Terminal
control sequences (ESC, the 8-bit C1 controls such as CSI 0x9b, NUL and the other C0
controls), DEL, the Unicode bidirectional controls, the line and paragraph separators
and the zero-width characters are replaced with *visible* markers, so the operator can
see that something odd was in the record and nothing is silently dropped. Markup is not
this module's business: the view layer wraps the result in literal `Content`/`Text`,
never in a markup string.

`unsafe_character` is the rule the services apply to text before it is stored (issue
16): what a terminal would obey is refused at the field. Zero-width characters are
stored (a zero-width joiner belongs in some scripts and emoji) but shown, and
`match_form` strips them, with NFC normalisation, wherever names are matched.
"""

from __future__ import annotations

import unicodedata

# Bidirectional formatting characters can make a record read differently from what it
# stores (U+202E turns "exe.txt" into "txt.exe"); they are shown, not obeyed.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

# Characters that take no space: a name holding one looks like one without it, and
# finds nobody. Shown as markers; removed for matching.
ZERO_WIDTH = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")

# Unicode's own line and paragraph separators: a line break a single-line cell must
# not obey.
SEPARATORS = frozenset("\u2028\u2029")

_ESCAPE_MARKER = "\u241b"  # ␛
_DELETE_MARKER = "\u2421"  # ␡
_NEWLINE_MARKER = "\u23ce"  # ⏎


def _marker(char: str) -> str:
    code = ord(char)
    if code == 0x1B:
        return _ESCAPE_MARKER
    if code < 0x20:
        # Unicode "control pictures" block: U+2400 + code point (␀, ␉, ␊ ...).
        return chr(0x2400 + code)
    if code == 0x7F:
        return _DELETE_MARKER
    return f"\u27e8U+{code:04X}\u27e9"  # ⟨U+009B⟩, ⟨U+202E⟩


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or char in BIDI_CONTROLS or char in SEPARATORS


def _needs_marker(char: str) -> bool:
    return _is_control(char) or char in ZERO_WIDTH


def unsafe_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of `text` that may not be stored, or None.

    Refused: the C0 controls (with `multiline`, tab and line feed are allowed), DEL, the
    C1 controls, the bidirectional controls and the line/paragraph separators. A
    terminal obeys them (ESC starts a command, U+009B is CSI) or they make the text
    read differently from what is stored (U+202E).
    """
    for char in text:
        if _is_control(char) and not (multiline and char in "\t\n"):
            return char
    return None


def match_form(text: str) -> str:
    """`text` as names are compared: NFC-normalised (a decomposed "Zoë" is the same as a
    composed one) with the zero-width characters taken out."""
    text = unicodedata.normalize("NFC", text)
    if any(c in ZERO_WIDTH for c in text):
        text = "".join(c for c in text if c not in ZERO_WIDTH)
    return text


def printable(text: object, *, multiline: bool = False, tabs: bool = False) -> str:
    """Return `text` with every control character replaced by a visible marker.

    With `multiline`, line feeds survive (narratives and log entries keep their
    paragraphs); otherwise they become ⏎ so a single-line cell stays one line. With
    `tabs`, a tab survives (a TextArea lays it out itself). A carriage return is always
    marked: it would let text overwrite itself. Zero-width characters are marked too.
    `None` becomes the empty string. Nothing else is changed or dropped.
    """
    if text is None:
        return ""
    text = str(text)
    if not any(_needs_marker(c) for c in text):
        return text
    out: list[str] = []
    for char in text:
        if char == "\n":
            out.append("\n" if multiline else _NEWLINE_MARKER)
        elif char == "\t" and tabs:
            out.append(char)
        elif _needs_marker(char):
            out.append(_marker(char))
        else:
            out.append(char)
    return "".join(out)


def control_message(label: str, char: str) -> str:
    """What to tell the operator about `char` refused in the field `label`."""
    if char == "\n":
        return f"{label} must be a single line"
    if char in BIDI_CONTROLS:
        return (
            f"{label} contains a text-direction control (U+{ord(char):04X}) that would make "
            "it read differently from what is stored; delete it and type the text again"
        )
    return (
        f"{label} contains a control character (U+{ord(char):04X}) that cannot be "
        "stored; delete it and type the text again"
    )
