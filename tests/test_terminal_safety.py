"""Stored text never reaches the terminal raw (issue 16, item 5).

The services refuse what a terminal would obey (C0, DEL, C1, bidi controls) at the
field; every input pre-filled from a record (the THRIVE reassess dialog, the
intelligence supersede form, a picked location, a restored draft) takes its value
through `printable`, as displayed text does; a paste arrives as text with its controls
made visible, never as keys; zero-width characters are shown; names match NFC-normalised
and without zero-width characters. The hostile corpus is planted straight into rows and
draft files (as an import or an older version could have left it), since the view must
not trust the services. `test_prefill_door` checks every screen's source for an input
value that does not come through the door; `test_terminal_bytes_*` checks the bytes a
real program writes to a real pty.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update
from textual import events
from textual.widgets import Input, TextArea

from controlroom.data.drafts import form_key
from controlroom.data.models import Incident, Location
from controlroom.domain.safe_text import match_form, printable, unsafe_character
from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.incident.actions import ReassessDialog
from controlroom.screens.incident.entry import IncidentEntry
from controlroom.screens.intelligence.report import IntelligenceReportScreen
from controlroom.screens.intelligence.submit import IntelligenceSubmit
from controlroom.services import fields, incidents
from controlroom.services.drafts import draft_journal
from controlroom.services.person_search import search_persons
from tests.apps import build_app, screen_text, settle
from tests.databases import SEED_ANCHOR, postgres_url
from tests.factories import add_intel, add_location, add_person, staff_actor
from tests.test_incident_view_screen import GRADE_CODES, open_view, save_incident

ROOT = Path(__file__).resolve().parents[1]
SIZE = (80, 24)

# What an attacker plants in a record: each of these changed the tester's terminal or
# fed it keys when an input was pre-filled with it (issue 16). NUL is only in files:
# PostgreSQL cannot store it at all.
HOSTILE = {
    "osc0": "\x1b]0;pwned\x07",
    "osc8": "\x1b]8;;https://example.invalid/\x1b\\link\x1b]8;;\x1b\\",
    "dcs": "\x1bP+q544e\x1b\\",
    "paste_end": "\x1b[201~\x1b[15~",
    "c1": "\x9b31m\x9d0;c1\x9c",
    "del": "a\x7fb",
    "rlo": "abc\u202edef",
    "zero_width": "Whit\u200bfield",
}
ALL_HOSTILE = " ".join(HOSTILE.values())


def raw_controls(text: str) -> list[str]:
    """The characters of `text` a terminal would obey (nothing a marker stands for)."""
    return [c for c in text if unsafe_character(c, multiline=True) is not None]


def assert_through_the_door(value: str, multiline: bool = False) -> None:
    assert raw_controls(value) == [], repr(value)
    assert "\u200b" not in value, repr(value)
    assert "\u241b" in value or "\u27e8U+" in value  # shown, not dropped


# --- the rule, and the service boundary ---------------------------------------------


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x9b", "C1 CSI"),
        ("\x85", "C1 NEL"),
        ("\x7f", "DEL"),
        ("\u202e", "RLO"),
        ("\u2066", "LRI"),
        ("\u2028", "line separator"),
        ("\x1b", "ESC"),
        ("\x00", "NUL"),
    ],
)
def test_what_a_terminal_obeys_is_refused_at_the_field(char, name):
    assert unsafe_character(f"ab{char}c") == char, name
    with pytest.raises(fields.FieldError) as refused:
        fields.text(f"Pat{char}Smith", "caller_name", "caller name", limit=100)
    assert refused.value.field == "caller_name"
    assert f"U+{ord(char):04X}" in refused.value.message


def test_the_refusal_says_what_a_direction_control_does():
    with pytest.raises(fields.FieldError) as refused:
        fields.text("abc\u202edef", "narrative", "narrative", limit=100, multiline=True)
    assert "text-direction control (U+202E)" in refused.value.message


def test_zero_width_characters_are_stored_but_shown_and_not_matched():
    assert fields.text("Whit\u200bfield", "surname", "surname", limit=50) == "Whit\u200bfield"
    assert printable("Whit\u200bfield") == "Whit\u27e8U+200B\u27e9field"
    assert match_form("Whit\u200bfield Zoe\u0308") == "Whitfield Zo\u00eb"


def test_a_saved_incident_with_a_c1_or_bidi_control_is_refused_at_its_field(database, supervisor):
    for field_name, value in (("caller_name", "Mallory \u202e"), ("narrative", "x \x9b31m")):
        new = incidents.NewIncident(
            idempotency_key=f"c1-{field_name}",
            type_code="DOM",
            location_text="1 Test Street",
            location_id=None,
            caller_name="Pat",
            caller_phone=None,
            caller_relationship=None,
            grade="G2",
            thrive=None,
            thrive_skipped=True,
            narrative="n",
            persons=(),
            domestic=True,
            child_present=False,
            weapons=False,
            possible_crime=False,
        )
        new = dataclasses.replace(new, **{field_name: value})
        with pytest.raises(incidents.IncidentInputError) as refused:
            incidents.save_new_incident(database.uow(), supervisor, new, SEED_ANCHOR, GRADE_CODES)
        assert refused.value.field == field_name
    with database.uow() as uow:
        assert uow.session.scalars(select(Incident)).all() == []


def test_a_name_with_a_zero_width_or_decomposed_letter_is_found(database, supervisor):
    add_person(database, "Zo\u00eb", "Whitfield", date_of_birth=date(1990, 1, 2))
    for query in ("zoe\u0308 whitfield", "whit\u200bfield zo\u00eb", "zo\u200b\u00eb whitfield"):
        hits = search_persons(database.uow(), supervisor, query, today=date(2026, 1, 1))
        assert [(h.forename, h.surname) for h in hits][:1] == [("Zo\u00eb", "Whitfield")], query


# --- every input pre-filled from a record --------------------------------------------


def _door_calls(path: Path) -> list[str]:
    """Each place in `path` that puts a value into an Input or TextArea other than a
    constant or `record_value(...)`."""
    tree = ast.parse(path.read_text())
    problems = []

    def through_door(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return True
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "record_value"
        )

    def widget_kind(node: ast.expr) -> str | None:
        # self.query_one("#x", Input).value / event.input.value / ….text_area.text
        if isinstance(node, ast.Call) and node.args:
            last = node.args[-1]
            if isinstance(last, ast.Name) and last.id in ("Input", "TextArea", "LookupInput"):
                return last.id
        if isinstance(node, ast.Attribute) and node.attr in ("input", "text_area"):
            return node.attr
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in ("value", "text")
                    and widget_kind(target.value)
                    and not through_door(node.value)
                ):
                    problems.append(f"{path.name}:{node.lineno}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("Input", "TextArea", "LookupInput")
        ):
            for keyword in node.keywords:
                if keyword.arg in ("value", "text") and not through_door(keyword.value):
                    problems.append(f"{path.name}:{node.lineno}")
            if node.func.id == "TextArea" and node.args and not through_door(node.args[0]):
                problems.append(f"{path.name}:{node.lineno}")
    return problems


def test_prefill_door():
    """No screen puts record text into an input but through `record_value`."""
    sources = sorted((ROOT / "controlroom").rglob("*.py"))
    problems = [p for path in sources for p in _door_calls(path)]
    assert problems == []
    # The check sees a planted bypass.
    planted = ROOT / "tests" / "__pycache__" / "planted_prefill.py"
    planted.parent.mkdir(exist_ok=True)
    planted.write_text(
        "def f(self, s):\n"
        "    self.query_one('#x', Input).value = s.name\n"
        "    Input(value=s.other)\n"
        "    self.query_one('#t', TextArea).text = record_value(s.t, multiline=True)\n"
    )
    try:
        assert _door_calls(planted) == ["planted_prefill.py:2", "planted_prefill.py:3"]
    finally:
        planted.unlink()


async def test_the_thrive_reassess_dialog_prefills_through_the_door(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    with database.uow() as uow:
        uow.session.execute(
            update(Incident)
            .where(Incident.reference == reference)
            .values(
                thrive_threat=HOSTILE["osc0"],
                thrive_harm=HOSTILE["dcs"],
                thrive_risk=HOSTILE["paste_end"],
                thrive_investigation=HOSTILE["osc8"],
                thrive_vulnerability=HOSTILE["c1"] + HOSTILE["rlo"],
                thrive_engagement=HOSTILE["del"] + "\x1b",
                thrive_skipped=False,
            )
        )
        uow.commit()
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ReassessDialog)
        values = [i.value for i in app.screen.query(Input) if (i.id or "").startswith("thrive-")]
        assert len(values) == 6
        for value in values:
            assert_through_the_door(value)
        assert values[0] == printable(HOSTILE["osc0"])
        assert app.is_running


async def test_the_supersede_form_prefills_through_the_door(database, tmp_path):
    report = add_intel(database, "Seen at " + ALL_HOSTILE, conditions="Only " + ALL_HOSTILE)
    app = build_app(database, tmp_path, username=staff_actor(database, "intelligence").username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(IntelligenceReportScreen(report))
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, IntelligenceSubmit)
        assert_through_the_door(app.screen.query_one("#text", TextArea).text, multiline=True)
        assert_through_the_door(app.screen.query_one("#conditions", Input).value)
        # What it would save is what it shows, never the raw controls.
        assert raw_controls(app.screen.state.text) == []
        assert raw_controls(app.screen.state.conditions) == []


async def test_a_picked_location_prefills_through_the_door(database, tmp_path, monkeypatch):
    monkeypatch.setattr(IncidentEntry, "lookup_delay", 0.0)
    add_location(database, "12 Mill Lane", postcode="LS6 2AB")
    with database.uow() as uow:
        uow.session.execute(update(Location).values(address="12 Mill Lane " + ALL_HOSTILE))
        uow.commit()
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("alt+l", *"LS6 2AB")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        value = app.screen.query_one("#location", Input).value
        assert value.startswith("12 Mill Lane ")
        assert_through_the_door(value)
        assert raw_controls(app.screen.state.location_text) == []


def plant_draft(data_dir: Path, username: str) -> None:
    """A draft file as a crashed session (or anyone who could write it) left it."""
    text = ALL_HOSTILE + " \x00nul"
    draft_journal(data_dir, username).for_form(form_key("hostile-draft")).save(
        {
            "version": 1,
            "idempotency_key": "hostile-draft",
            "caller_name": "Pat " + text,
            "caller_phone": text,
            "caller_relationship": text,
            "location_text": "9 Draft Road " + text,
            "type_text": text,
            "grade": text,
            "thrive": {"threat": text, "harm": text},
            "narrative": "line one\n" + text,
            "persons": [],
        }
    )


async def test_a_restored_draft_prefills_through_the_door_and_a_paste_is_text(database, tmp_path):
    plant_draft(tmp_path, "test.supervisor")
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert raw_controls(screen_text(app)) == []
        await pilot.press("y")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, IncidentEntry)
        for field_id in ("caller-name", "caller-phone", "caller-relationship", "location"):
            assert_through_the_door(form.query_one(f"#{field_id}", Input).value)
        for part in ("threat", "harm"):
            assert_through_the_door(form.query_one(f"#thrive-{part}", Input).value)
        narrative = form.query_one("#narrative", TextArea).text
        assert narrative.startswith("line one\n")
        assert_through_the_door(narrative, multiline=True)
        assert "\u2400nul" in narrative  # ␀: NUL shown, not dropped
        # A paste is text, never keys: Smith, ESC, ctrl+q, ctrl+s once quit the app and
        # saved the form.
        caller = form.query_one("#caller-name", Input)
        caller.value = ""
        caller.focus()
        app.post_message(events.Paste("Smith\x1b\x11\x13\x9b\u202e"))
        await settle(pilot)
        assert app.is_running and app.screen is form
        assert caller.value == "Smith\u241b\u2411\u2413\u27e8U+009B\u27e9\u27e8U+202E\u27e9"
        area = form.query_one("#narrative", TextArea)
        area.text = ""
        area.focus()
        app.post_message(events.Paste("one\r\ntwo\tthree\x1b[2J"))
        await settle(pilot)
        assert area.text == "one\ntwo\tthree\u241b[2J"


# --- the bytes on a real terminal ----------------------------------------------------

# The app's own output: CSI sequences (SGR colours, cursor moves, modes), the few
# two-byte ESC sequences a terminal library writes, and Textual's OSC 22 (the mouse
# pointer's shape, a word). Anything else with an ESC, a C1 control or a bidi control
# came from a record.
_APP_SEQUENCE = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[=>78]|\x1b\([0B]|\x1b\]22;[a-z-]*\x07"
)


def stray_controls(output: bytes) -> list[str]:
    text = output.decode("utf-8", "replace")
    # A bracketed-paste end is a sequence only a terminal sends: from an app, planted.
    assert "\x1b[201~" not in text
    rest = _APP_SEQUENCE.sub("", text)
    return sorted(
        {
            repr(c)
            for c in rest
            if c == "\x1b" or 0x80 <= ord(c) <= 0x9F or c == "\x7f" or c in "\u202e\u2066"
        }
    )


@pytest.mark.skipif(postgres_url() is not None, reason="the real program runs on SQLite here")
def test_terminal_bytes_of_a_restored_hostile_draft_and_paste(tmp_path):
    from tests.factories import station_database
    from tests.terminal import TerminalSession, station_env

    url = station_database(tmp_path / "station.sqlite")
    from controlroom.domain.identity import process_account

    plant_draft(tmp_path, process_account())
    session = TerminalSession(
        [sys.executable, "-m", "controlroom", "--database-url", url], station_env(tmp_path)
    )
    try:
        session.wait_for("Restore the incident")
        session.mark()
        session.send("y")
        session.wait_for("alt+k Skip THRIVE")
        session.wait_for("9 Draft Road")
        # A bracketed paste holding ESC and ctrl+q: once these quit the app.
        session.send("\x1b[200~Smith\x1b\x11 end\x1b[201~")
        session.wait_for("Smith\u241b\u2411 end")
        session.drain(0.5)
        assert session.status is None  # still running: the paste quit nothing
        assert stray_controls(session.output) == []
        session.send("ctrl+q")
        session.drain(0.5)
        session.send("y")
        session.wait()
    finally:
        session.close()


def _tokens(parser, *pieces: str) -> list[tuple[str, str]]:
    return [
        (type(t).__name__, getattr(t, "text", None) or getattr(t, "key", ""))
        for piece in pieces
        for t in parser.feed(piece)
    ]


def test_a_bracketed_paste_reaches_the_app_as_one_paste_of_text():
    import importlib

    from textual import _xterm_parser
    from textual.drivers import linux_driver

    from controlroom.widgets.paste_guard import PasteGuardParser, install

    # Textual's own parser (once an app is built, Textual's module names the guard).
    XTermParser = PasteGuardParser.__mro__[1]  # noqa: N806
    assert XTermParser.__module__ == "textual._xterm_parser"

    hostile = "\x1b[200~Smith\x1b\x11 end\x1b[201~"
    # What Textual alone does: the ESC and ctrl+q inside the paste become keys.
    assert ("Key", "ctrl+q") in _tokens(XTermParser(), hostile)
    assert _tokens(PasteGuardParser(), hostile) == [("Paste", "Smith\u241b\u2411 end")]
    # Split across reads anywhere, the same.
    assert _tokens(PasteGuardParser(), "\x1b[2", "00~Sm\x1b", "\x11x\x1b[20", "1~", "q") == [
        ("Paste", "Sm\u241b\u2411x"),
        ("Key", "q"),
    ]
    # Typing outside a paste is untouched: ESC is still Escape, ctrl+q still ctrl+q.
    assert _tokens(PasteGuardParser(), "\x11") == [("Key", "ctrl+q")]
    install()
    assert linux_driver.XTermParser is PasteGuardParser
    # A driver imported after (the inline one) builds the guard too.
    assert _xterm_parser.XTermParser is PasteGuardParser
    inline = importlib.import_module("textual.drivers.linux_inline_driver")
    assert inline.XTermParser is PasteGuardParser


def test_every_written_reason_refuses_what_a_terminal_obeys():
    """The reasons checked outside `fields.text`: a DASH judgement, a safeguarding
    override, a person merge."""
    from controlroom.domain.dash import DashError, RiskLevel, check_judgement
    from controlroom.domain.safeguarding import override_reason_problem
    from controlroom.services.person_merge import ReasonRequired, _reason

    reason = "Known to be violent, seen with a knife last week \u202e"
    with pytest.raises(DashError) as dash:
        check_judgement(RiskLevel.STANDARD, RiskLevel.HIGH, reason)
    assert "U+202E" in str(dash.value)
    assert "U+202E" in (override_reason_problem(reason) or "")
    with pytest.raises(ReasonRequired, match="U\\+009B"):
        _reason("The same person, twice entered \x9b31m")
