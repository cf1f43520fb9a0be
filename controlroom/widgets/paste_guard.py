"""A bracketed paste stays text: its ESC and control characters never become keys.

Textual's terminal parser (8.x) reads an ESC inside a bracketed paste as the start of an
escape sequence and, when that sequence is not the paste's end, hands it on as *keys*:
a paste of "Smith", ESC, ctrl+q quit the app (issue 16). `PasteGuardParser` rewrites
the inside of every bracketed paste before the parser sees it: each control character
becomes its visible marker (`printable`: ␛, ␑, ⟨U+009B⟩), line ends become LF, so the
parser finds plain text up to the paste's real end and posts one `Paste` event.

What no program can tell apart: a paste whose content holds the paste-end sequence
itself ("ESC [ 2 0 1 ~") ends there, and what follows arrives as typing. Terminals are
meant to strip it from what they paste; README says so.

`install()` puts the guard into the Linux drivers (which build their parser by the
module-level name); `tests/test_terminal_safety.py` checks it is in place and what it
does on a real pty.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._xterm_parser import XTermParser

from controlroom.domain.safe_text import printable

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


def _held_prefix(text: str, sequence: str) -> int:
    """How many characters at the end of `text` could begin `sequence` (0 if none)."""
    for length in range(min(len(sequence) - 1, len(text)), 0, -1):
        if sequence.startswith(text[-length:]):
            return length
    return 0


def paste_content(text: str) -> str:
    """A paste's content as the field gets it: controls visible, line ends LF."""
    return printable(text.replace("\r\n", "\n").replace("\r", "\n"), multiline=True, tabs=True)


class PasteGuardParser(XTermParser):
    """XTermParser whose bracketed pastes hold no control characters."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._in_paste = False
        self._held = ""  # inside a paste: a tail that may be the start of its end
        self._partial = ""  # outside: a tail that may be the start of a paste

    def feed(self, data: str) -> Iterable:
        return super().feed(self.guard(data))

    def guard(self, data: str) -> str:
        """`data` with the inside of any bracketed paste made plain text."""
        out: list[str] = []
        text = self._held + data
        self._held = ""
        index = 0
        if not self._in_paste and self._partial:
            # The start of a paste split across two reads: its first part went on already.
            joined = self._partial + text
            self._partial = ""
            if joined.startswith(PASTE_START):
                rest = len(PASTE_START) - (len(joined) - len(text))
                out.append(text[:rest])
                index = rest
                self._in_paste = True
        while index < len(text):
            if not self._in_paste:
                start = text.find(PASTE_START, index)
                if start < 0:
                    chunk = text[index:]
                    out.append(chunk)
                    held = _held_prefix(chunk, PASTE_START)
                    self._partial = chunk[-held:] if held else ""
                    break
                out.append(text[index : start + len(PASTE_START)])
                index = start + len(PASTE_START)
                self._in_paste = True
            else:
                end = text.find(PASTE_END, index)
                if end < 0:
                    chunk = text[index:]
                    held = _held_prefix(chunk, PASTE_END)
                    if held:
                        self._held = chunk[-held:]
                        chunk = chunk[:-held]
                    out.append(paste_content(chunk))
                    break
                out.append(paste_content(text[index:end]) + PASTE_END)
                index = end + len(PASTE_END)
                self._in_paste = False
        return "".join(out)


def install() -> None:
    """Make the terminal drivers build their parser as a `PasteGuardParser`.

    A driver takes Textual's parser class by name when it is imported: the Linux driver
    (imported with Textual's app) is given the guard, and so is the module the name
    comes from, for a driver imported later (the inline one, never run by Control Room,
    is not imported for the guard's sake: it is 50 KiB of every session)."""
    import sys

    from textual import _xterm_parser
    from textual.drivers import linux_driver

    _xterm_parser.XTermParser = PasteGuardParser  # type: ignore[misc]
    linux_driver.XTermParser = PasteGuardParser  # type: ignore[misc]
    inline_driver = sys.modules.get("textual.drivers.linux_inline_driver")
    if inline_driver is not None:
        inline_driver.XTermParser = PasteGuardParser  # type: ignore[attr-defined]
