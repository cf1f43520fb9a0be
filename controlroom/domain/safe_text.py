"""Record text made safe for a terminal.

Every string that came from a user or the database passes through `printable` before
it reaches the screen. Terminal control sequences (ESC, the 8-bit C1 controls such as
CSI 0x9b, NUL and the other C0 controls), DEL and the Unicode bidirectional overrides
are replaced with *visible* markers, so the operator can see that something odd was in
the record and nothing is silently dropped. Markup is not this module's business: the
view layer wraps the result in literal `Content`/`Text`, never in a markup string.
"""

from __future__ import annotations

# Bidirectional formatting characters can make a record read differently from what it
# stores (U+202E turns "exe.txt" into "txt.exe"); they are shown, not obeyed.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

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


def _needs_marker(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or char in BIDI_CONTROLS


def printable(text: object, *, multiline: bool = False) -> str:
    """Return `text` with every control character replaced by a visible marker.

    With `multiline`, line feeds survive (narratives and log entries keep their
    paragraphs); otherwise they become ⏎ so a single-line cell stays one line.
    A carriage return is always marked: it would let text overwrite itself.
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
        elif _needs_marker(char):
            out.append(_marker(char))
        else:
            out.append(char)
    return "".join(out)
