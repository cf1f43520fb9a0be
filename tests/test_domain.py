"""Domain rules as plain unit tests: safe text, roles, 3x5x2 grading, terminals, grades.

No database and no Textual here: `controlroom.domain` is pure, and so are its tests.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.domain.environment import Environment
from controlroom.domain.grades import DEFAULT_GRADES, Grade, grade_codes
from controlroom.domain.identity import LOCAL_TERMINAL, terminal_from_environment
from controlroom.domain.intelligence import (
    Grading,
    HandlingCode,
    IntelligenceGrade,
    SourceGrade,
    grading,
)
from controlroom.domain.roles import Role, parse_role
from controlroom.domain.safe_text import BIDI_CONTROLS, SEPARATORS, ZERO_WIDTH, printable

# --- safe_text -----------------------------------------------------------------------

C0 = frozenset(chr(c) for c in range(0x20))
C1 = frozenset(chr(c) for c in range(0x80, 0xA0))
DEL = "\x7f"
# Zero-width characters and the Unicode line separators are shown as markers too (issue 16).
CONTROLS = C0 | C1 | BIDI_CONTROLS | {DEL} | ZERO_WIDTH | SEPARATORS


def controls_in(text: str, *, allow_newline: bool = False) -> set[str]:
    found = {c for c in text if c in CONTROLS}
    if allow_newline:
        found.discard("\n")
    return found


def is_subsequence(needle: str, haystack: str) -> bool:
    remaining = iter(haystack)
    return all(char in remaining for char in needle)


# Markup-looking record text: Rich/Textual markup, a link, and the `[TODO]` that
# Textual's escape() misses. printable() must leave every one of them as typed.
MARKUP_LOOKALIKES = [
    "[b]x",
    "[/]",
    "[@click=app.quit]x",
    "[link=http://e.x]y[/link]",
    "[TODO] plan",
    "[0]",
    "[[nested]]",
]

# Terminal attacks, and what the operator sees instead.
HOSTILE_CONTROLS = [
    ("\x1b[2J", "\u241b[2J"),  # ESC: clear screen
    ("\x1b]52;c;SGVsbG8=\x07", "\u241b]52;c;SGVsbG8=\u2407"),  # OSC 52 clipboard write
    ("\x9b31m", "\u27e8U+009B\u27e931m"),  # 8-bit CSI
    ("a\x00b", "a\u2400b"),  # NUL
    ("\u202etxt.exe", "\u27e8U+202E\u27e9txt.exe"),  # right-to-left override
    ("a\rb", "a\u240db"),  # CR would let text overwrite itself
    ("x\x7f", "x\u2421"),  # DEL
    ("tab\there", "tab\u2409here"),
    ("Whit\u200bfield", "Whit\u27e8U+200B\u27e9field"),  # zero-width space
    ("a\u2028b", "a\u27e8U+2028\u27e9b"),  # line separator
]


@pytest.mark.parametrize("text", MARKUP_LOOKALIKES)
def test_markup_looking_text_is_left_exactly_as_typed(text):
    assert printable(text) == text


@pytest.mark.parametrize(("text", "shown"), HOSTILE_CONTROLS)
def test_control_characters_become_visible_markers(text, shown):
    result = printable(text)
    assert result == shown
    assert controls_in(result) == set()


def test_markup_and_controls_together_keep_the_markup_and_mark_the_controls():
    text = "[@click=app.quit]x\x1b[2J[link=http://e.x]y[/link]\u202e"
    result = printable(text)
    assert result == "[@click=app.quit]x\u241b[2J[link=http://e.x]y[/link]\u27e8U+202E\u27e9"


def test_every_bidi_control_is_marked_with_its_code_point():
    for char in sorted(BIDI_CONTROLS):
        assert printable(char) == f"\u27e8U+{ord(char):04X}\u27e9"


def test_line_feeds_survive_only_in_multiline_text():
    assert printable("first\nsecond", multiline=True) == "first\nsecond"
    assert printable("first\nsecond") == "first\u23cesecond"
    assert printable("a\r\nb", multiline=True) == "a\u240d\nb"


def test_none_is_empty_and_other_objects_are_shown_as_text():
    assert printable(None) == ""
    assert printable(42) == "42"


control_heavy_text = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(sorted(CONTROLS))), max_size=60
)


@given(control_heavy_text)
def test_printable_drops_nothing_and_leaves_no_control_character(text):
    result = printable(text)
    assert controls_in(result) == set()
    kept = "".join(c for c in text if c not in CONTROLS)
    assert is_subsequence(kept, result)
    # One marker per control character, so nothing vanished silently.
    assert len(result) >= len(text)


@given(control_heavy_text)
def test_multiline_keeps_every_line_feed_and_nothing_else_raw(text):
    result = printable(text, multiline=True)
    assert controls_in(result, allow_newline=True) == set()
    assert result.count("\n") == text.count("\n")
    kept = "".join(c for c in text if c not in CONTROLS or c == "\n")
    assert is_subsequence(kept, result)


@given(st.text(alphabet=st.characters(exclude_characters=sorted(CONTROLS))))
def test_text_without_controls_is_unchanged(text):
    assert printable(text) == text


# --- roles ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_parses_from_its_value_its_label_and_any_case(role):
    assert parse_role(role.value) is role
    assert parse_role(role.label) is role
    assert parse_role(f"  {role.label.upper()} ") is role
    assert parse_role(role.value.replace("_", "-")) is role


def test_an_unknown_role_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown role 'chief'") as refused:
        parse_role("chief")
    for role in Role:
        assert role.value in str(refused.value)


# --- intelligence grading (3x5x2) ----------------------------------------------------

ALL_GRADINGS = list(product("123", "ABCDE", "PC"))


def test_there_are_thirty_gradings():
    assert len(ALL_GRADINGS) == 30
    assert len(SourceGrade) * len(IntelligenceGrade) * len(HandlingCode) == 30


@pytest.mark.parametrize(("source", "intelligence", "handling"), ALL_GRADINGS)
def test_every_valid_grading_is_accepted(source, intelligence, handling):
    conditions = "Not to be shared outside the force" if handling == "C" else None
    result = grading(source, intelligence, handling, conditions)
    assert isinstance(result, Grading)
    assert result.code == f"{source}{intelligence}{handling}"
    assert result.source is SourceGrade(source)
    assert result.intelligence is IntelligenceGrade(intelligence)
    assert result.handling is HandlingCode(handling)
    assert result.conditions == conditions


def test_grading_accepts_lower_case_and_stray_spaces():
    assert grading(" 2 ", "b", "c", "  MARAC only  ") == Grading(
        SourceGrade.UNTESTED,
        IntelligenceGrade.KNOWN_INDIRECTLY_CORROBORATED,
        HandlingCode.CONDITIONS,
        "MARAC only",
    )


@pytest.mark.parametrize("conditions", [None, "", "   "])
def test_handling_code_c_without_conditions_is_refused(conditions):
    with pytest.raises(ValueError, match="handling code C needs the conditions"):
        grading("1", "A", "C", conditions)


def test_conditions_on_handling_code_p_are_refused():
    with pytest.raises(ValueError, match="conditions only apply to handling code C"):
        grading("1", "A", "P", "only within the force")


@pytest.mark.parametrize(
    ("source", "intelligence", "handling", "field"),
    [
        ("4", "A", "P", "source grade"),
        ("0", "A", "P", "source grade"),
        ("", "A", "P", "source grade"),
        ("A", "1", "P", "source grade"),
        ("1", "F", "P", "intelligence grade"),
        ("1", "", "P", "intelligence grade"),
        ("1", "AB", "P", "intelligence grade"),
        ("1", "A", "X", "handling code"),
        ("1", "A", "", "handling code"),
        ("1", "A", "4", "handling code"),
    ],
)
def test_a_bad_code_is_refused_naming_the_field(source, intelligence, handling, field):
    with pytest.raises(ValueError, match=field):
        grading(source, intelligence, handling)


# --- terminal identity -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "terminal"),
    [
        ({"SSH_CLIENT": "192.0.2.7 51234 22"}, "192.0.2.7"),
        ({"SSH_CONNECTION": "198.51.100.4 40022 203.0.113.1 22"}, "198.51.100.4"),
        ({"SSH_CONNECTION": "2001:db8::5 40022 2001:db8::1 22"}, "2001:db8::5"),
        (
            {
                "SSH_CLIENT": "192.0.2.7 51234 22",
                "SSH_CONNECTION": "198.51.100.4 40022 203.0.113.1 22",
            },
            "192.0.2.7",
        ),
        ({"SSH_CLIENT": "   ", "SSH_CONNECTION": "198.51.100.4 1 2 3"}, "198.51.100.4"),
        ({"TERM": "xterm"}, LOCAL_TERMINAL),
        ({}, "local"),
    ],
)
def test_terminal_is_the_ssh_client_address_or_local(environ, terminal):
    assert terminal_from_environment(environ) == terminal


# --- grades and environments ---------------------------------------------------------


def test_default_grades_are_the_national_four_with_their_targets():
    assert grade_codes() == ("G1", "G2", "G3", "G4")
    g1, g2, g3, g4 = DEFAULT_GRADES
    assert (g1.label, g1.target, g1.rural_target) == (
        "G1 Emergency",
        timedelta(minutes=15),
        timedelta(minutes=20),
    )
    assert (g2.label, g2.target, g2.rural_target) == ("G2 Priority", timedelta(minutes=60), None)
    assert (g3.label, g3.target) == ("G3 Scheduled", timedelta(hours=48))
    assert (g4.label, g4.target) == ("G4 Resolution without deployment", None)


def test_grade_codes_follow_a_configured_list():
    force_grades = (Grade("E", "Emergency", timedelta(minutes=10)), Grade("R", "Routine", None))
    assert grade_codes(force_grades) == ("E", "R")


def test_only_production_goes_without_a_banner():
    assert Environment.PRODUCTION.banner is None
    assert "synthetic" in Environment.TRAINING.banner
    assert Environment.TEST.banner.startswith("TEST")
