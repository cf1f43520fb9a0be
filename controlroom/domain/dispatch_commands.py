"""The dispatcher's command line: its grammar, and completion as it is typed.

    <callsigns> <command> [<incident>]

- `<callsigns>`: one callsign, or several joined by commas (`MP21,MP22`);
- `<command>`: a status's command word from `db/unit_status.csv` (`av` available,
  `as` assigned, `er` en route, `sc` at scene, `bu` busy, `rf` refreshment, `od` off
  duty), or `as!` to assign a unit that is committed elsewhere (the override), or
  `em` for an emergency on the unit (the screen adds it to the words it passes);
- `<incident>`: with `as` / `as!` only, the incident's reference or its end
  (`CR-20261202-0042`, `1202-0042`, `0042`).

    MP21 as CR-20261202-0042     assign MP21 to the incident
    MP21,MP22 as 0042            assign both
    MP21 er                      MP21 en route to its incident
    MP21 sc                      MP21 at scene (the first arrival stops the clock)
    MP21 av                      MP21 clear, available again
    MP21 em                      an emergency on MP21: every dispatcher's screen

Case does not matter. Pure: the screen resolves callsigns and references with services.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ASSIGN = "as"
# The radio's emergency button, entered by a dispatcher: `MP21 em`.
EMERGENCY = "em"
OVERRIDE_SUFFIX = "!"
CALLSIGN_LIMIT = 12
MAX_UNITS = 10


class CommandError(ValueError):
    """The line does not follow the grammar; the message says what is wrong, in words."""


@dataclass(frozen=True, slots=True)
class DispatchCommand:
    callsigns: tuple[str, ...]
    command: str  # a status's command word, lower case ("as", "sc")
    reference: str | None = None  # what was typed for the incident, upper case
    override: bool = False


def parse(line: str, commands: Sequence[str]) -> DispatchCommand:
    """The command on `line`, given the configured command words; `CommandError` if not."""
    words = line.split()
    if not words:
        raise CommandError("type a callsign, then a command: MP21 as CR-20261202-0042")
    callsigns = tuple(c.upper() for c in words[0].split(",") if c)
    if not callsigns:
        raise CommandError("start with a callsign, e.g. MP21")
    if len(callsigns) > MAX_UNITS:
        raise CommandError(f"at most {MAX_UNITS} units in one command")
    for callsign in callsigns:
        if len(callsign) > CALLSIGN_LIMIT or not callsign.replace("-", "").isalnum():
            raise CommandError(f"{callsign[:CALLSIGN_LIMIT]} is not a callsign")
    if len(words) < 2:
        raise CommandError(f"after {words[0].upper()}, a command: {', '.join(commands)}")
    typed = words[1].lower()
    override = typed.endswith(OVERRIDE_SUFFIX)
    command = typed.rstrip(OVERRIDE_SUFFIX)
    if command not in commands:
        raise CommandError(f"{typed} is not a command; use one of {', '.join(commands)}")
    if override and command != ASSIGN:
        raise CommandError(f"only {ASSIGN}{OVERRIDE_SUFFIX} overrides: {typed} does not")
    rest = words[2:]
    if command == ASSIGN:
        if not rest:
            raise CommandError("which incident? e.g. MP21 as CR-20261202-0042 (or its end, 0042)")
        if len(rest) > 1:
            raise CommandError("one incident at a time")
        return DispatchCommand(callsigns, command, rest[0].upper(), override)
    if rest:
        raise CommandError(f"{command} takes no incident: the unit's own incident is meant")
    if len(callsigns) > 1:
        # A status is one unit's report; several at once is a slip more often than not.
        raise CommandError(f"{command} is for one unit at a time")
    return DispatchCommand(callsigns, command)


def complete(
    line: str,
    *,
    callsigns: Iterable[str],
    commands: Sequence[str],
    references: Iterable[str],
) -> str | None:
    """The whole line with its last word completed (the first candidate in order), or
    None when nothing fits or the word is already whole. Completes a callsign (also
    after a comma), then a command word, then a reference by its start or its end."""
    if not line or line.endswith(" "):
        return None
    words = line.split(" ")
    last = words[-1]
    head = line[: len(line) - len(last)]
    position = sum(1 for w in words[:-1] if w)
    if position == 0:
        before, _, partial = last.rpartition(",")
        partial = partial.upper()
        if not partial:
            return None
        for callsign in callsigns:
            if callsign.upper().startswith(partial) and callsign.upper() != partial:
                return head + (before + "," if before else "") + callsign
        return None
    if position == 1:
        lowered = last.lower()
        for command in commands:
            if command.startswith(lowered) and command != lowered:
                return head + command
        return None
    if position == 2 and words[1].lower().rstrip(OVERRIDE_SUFFIX) == ASSIGN:
        partial = last.upper()
        for reference in references:
            if reference != partial and (
                reference.startswith(partial) or reference.endswith(partial)
            ):
                return head + reference
    return None
