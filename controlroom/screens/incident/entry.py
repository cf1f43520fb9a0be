"""Incident entry (F2 / ctrl+n): fields in the order a call handler works.

Caller, location (matched against known addresses as it is typed; an unverified one is
allowed but flagged), incident type (a few letters: "dom" finds Domestic incident),
grade (suggested from the type and the flags; the operator may change it), THRIVE (six
short fields, or skipped explicitly with alt+k so the incident shows "not assessed"),
flags, narrative, and the persons linked to the call.

Warnings surface by themselves in the panel on the right: the location's history,
hazards and the markers of the people who live there, the markers of every linked
person, and open incidents this call may duplicate (alt+d links the call to one).

Nothing typed is lost: the form's state goes to the operator's draft journal at most
2 s after typing stops and whenever a field is left; the draft carries the idempotency
key, so saving a restored draft makes exactly one incident. Save is ctrl+s or F10;
Esc asks before discarding anything typed. Bad input is reported at its field and the
typing stays where it was.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, Static, TextArea

from controlroom.domain.availability import DatabaseState, cache_age, keeps_offline
from controlroom.domain.grades import parse_grade
from controlroom.domain.incidents import TEXT_LIMIT, THRIVE_PARTS, IncidentFlag, suggest_grade
from controlroom.domain.postcode import postcode_problem
from controlroom.messages import IncidentSaved
from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.database_watch import DatabaseReturned
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed, FailureKind
from controlroom.widgets.flag_box import FlagBox as Checkbox
from controlroom.widgets.limited_text import LimitedTextArea
from controlroom.widgets.lookup_input import LookupInput, MatchList
from controlroom.widgets.quiet import show
from controlroom.widgets.record_text import record_content, record_value
from controlroom.widgets.warning_panel import WarningPanel

if TYPE_CHECKING:
    from controlroom.services.drafts import DraftJournal
    from controlroom.services.incidents import (
        IncidentSummary,
        IncidentTypeOption,
        NewIncident,
        SavedIncident,
    )
    from controlroom.services.locations import LocationContext, LocationMatch
    from controlroom.services.persons import PersonSummary

log = logging.getLogger("controlroom.screens")

DRAFT_DELAY_SECONDS = 2.0
LOOKUP_DELAY_SECONDS = 0.25
FLAGS = tuple(flag.value for flag in IncidentFlag)
THRIVE_SHORT = {
    "threat": "Threat",
    "harm": "Harm",
    "risk": "Risk",
    "investigation": "Investig.",
    "vulnerability": "Vulnerab.",
    "engagement": "Engagement",
}
ROLE_KEYS = {"c": "caller", "v": "victim", "s": "suspect", "w": "witness", "j": "subject"}


@dataclass
class EntryState:
    """Everything the operator has put into the form; what the draft journal stores."""

    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    caller_name: str = ""
    caller_phone: str = ""
    caller_relationship: str = ""
    location_text: str = ""
    location_id: int | None = None
    type_text: str = ""
    type_code: str | None = None
    grade: str = ""
    grade_chosen: bool = False  # the operator typed a grade: stop suggesting
    thrive: dict[str, str] = field(default_factory=lambda: dict.fromkeys(THRIVE_PARTS, ""))
    thrive_skipped: bool = False
    flags: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(FLAGS, False))
    narrative: str = ""
    persons: list[dict[str, Any]] = field(default_factory=list)  # {id, role, name}
    # When the call was taken: the form's opening, by the app's clock (set on mount).
    call_taken_at: datetime | None = None

    def is_blank(self) -> bool:
        return not any(
            (
                self.caller_name,
                self.caller_phone,
                self.caller_relationship,
                self.location_text,
                self.type_text,
                self.narrative,
                self.persons,
                any(self.thrive.values()),
            )
        )

    def to_draft(self) -> dict[str, Any]:
        return {
            "version": 1,
            "idempotency_key": self.idempotency_key,
            "caller_name": self.caller_name,
            "caller_phone": self.caller_phone,
            "caller_relationship": self.caller_relationship,
            "location_text": self.location_text,
            "location_id": self.location_id,
            "type_text": self.type_text,
            "type_code": self.type_code,
            "grade": self.grade,
            "grade_chosen": self.grade_chosen,
            "thrive": dict(self.thrive),
            "thrive_skipped": self.thrive_skipped,
            "flags": dict(self.flags),
            "narrative": self.narrative,
            "persons": list(self.persons),
            "call_taken_at": None
            if self.call_taken_at is None
            else self.call_taken_at.astimezone(UTC).isoformat(),
        }

    @classmethod
    def from_draft(cls, draft: dict[str, Any]) -> EntryState:
        """Rebuild from a journal entry; unknown or malformed keys fall back to blanks."""
        state = cls()
        for name in (
            "idempotency_key",
            "caller_name",
            "caller_phone",
            "caller_relationship",
            "location_text",
            "type_text",
            "grade",
            "narrative",
        ):
            if isinstance(draft.get(name), str):
                setattr(state, name, draft[name])
        if isinstance(draft.get("location_id"), int):
            state.location_id = draft["location_id"]
        if isinstance(draft.get("type_code"), str):
            state.type_code = draft["type_code"]
        state.grade_chosen = bool(draft.get("grade_chosen"))
        state.thrive_skipped = bool(draft.get("thrive_skipped"))
        thrive = draft.get("thrive")
        thrive = thrive if isinstance(thrive, dict) else {}
        state.thrive = {p: str(thrive.get(p) or "") for p in THRIVE_PARTS}
        flags = draft.get("flags")
        flags = flags if isinstance(flags, dict) else {}
        state.flags = {f: bool(flags.get(f)) for f in FLAGS}
        persons = draft.get("persons")
        persons = persons if isinstance(persons, list) else []
        state.persons = [p for p in persons if isinstance(p, dict) and isinstance(p.get("id"), int)]
        taken = draft.get("call_taken_at")
        if isinstance(taken, str):
            try:
                parsed = datetime.fromisoformat(taken)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                state.call_taken_at = parsed
        return state


class IncidentEntry(FramedScreen):
    """The new-incident form. See the module docstring for what it guarantees."""

    TITLE = "New incident"

    lookup_delay: float = LOOKUP_DELAY_SECONDS
    """Seconds of quiet typing before a lookup runs (tests set 0 to run it at once)."""

    # The alt keys are priority bindings: a real terminal delivers alt+l with the
    # character "l", which a focused Input would otherwise type into itself.
    BINDINGS = [
        Binding("ctrl+s,f10", "save", "Save", id="entry.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="entry.cancel"),
        Binding("alt+k", "skip_thrive", "Skip THRIVE", id="entry.skip_thrive", priority=True),
        Binding(
            "alt+d",
            "link_duplicate",
            "Link to open incident",
            id="entry.link_duplicate",
            priority=True,
        ),
        Binding("alt+a", "new_person", "New person", id="entry.new_person", priority=True),
        Binding(
            "alt+c",
            "jump('caller-name')",
            "Caller",
            id="entry.jump_caller",
            show=False,
            priority=True,
        ),
        Binding(
            "alt+l",
            "jump('location')",
            "Location",
            id="entry.jump_location",
            show=False,
            priority=True,
        ),
        Binding("alt+t", "jump('type')", "Type", id="entry.jump_type", show=False, priority=True),
        Binding(
            "alt+g", "jump('grade')", "Grade", id="entry.jump_grade", show=False, priority=True
        ),
        Binding(
            "alt+h",
            "jump('thrive-threat')",
            "THRIVE",
            id="entry.jump_thrive",
            show=False,
            priority=True,
        ),
        Binding(
            "alt+f",
            "jump('flag-domestic')",
            "Flags",
            id="entry.jump_flags",
            show=False,
            priority=True,
        ),
        Binding(
            "alt+n",
            "jump('narrative')",
            "Narrative",
            id="entry.jump_narrative",
            show=False,
            priority=True,
        ),
        Binding(
            "alt+p",
            "jump('person-query')",
            "Persons",
            id="entry.jump_persons",
            show=False,
            priority=True,
        ),
        Binding(
            "alt+x",
            "unlink_person",
            "Unlink last person",
            id="entry.unlink_person",
            show=False,
            priority=True,
        ),
        # Moving between fields is decided the moment the key is read, before the keys
        # typed after it are delivered: over a lagging SSH link a fast typist's "Tab 7
        # Crash Street" arrives in one burst, and a field change made later would leave
        # the address in the previous field.
        Binding(
            "tab", "next_field", "Next field", id="entry.next_field", show=False, priority=True
        ),
        Binding(
            "shift+tab",
            "previous_field",
            "Previous field",
            id="entry.previous_field",
            show=False,
            priority=True,
        ),
        Binding(
            "enter", "enter_field", "Accept and next", id="entry.enter", show=False, priority=True
        ),
        Binding(
            "down", "move_match(1)", "Next match", id="entry.next_match", show=False, priority=True
        ),
        Binding(
            "up",
            "move_match(-1)",
            "Previous match",
            id="entry.previous_match",
            show=False,
            priority=True,
        ),
    ]

    @dataclass
    class TypesLoaded(Message):
        """The incident types, for the type field's lookup and the grade suggestion."""

        types: list[IncidentTypeOption]

    @dataclass
    class LocationsFound(Message):
        """Known addresses matching `query` (as typed when the lookup started)."""

        query: str
        matches: list[LocationMatch]
        # From the station's cache of the area (read then), the database not answering.
        as_of: datetime | None = None

    @dataclass
    class LocationContextLoaded(Message):
        """The picked location's hazards, history and residents."""

        location_id: int
        context: LocationContext
        # From the station's cache: as last seen at `as_of` (`seen`), or hazards alone.
        as_of: datetime | None = None
        seen: bool = True

    @dataclass
    class PersonsFound(Message):
        """Persons matching `query` in the person field."""

        query: str
        persons: list[PersonSummary]

    @dataclass
    class PersonMarkersLoaded(Message):
        """The markers of the persons linked to the call (a restored draft)."""

        persons: list[PersonSummary]

    @dataclass
    class DuplicatesFound(Message):
        """Open incidents this call may duplicate (none if the check failed)."""

        duplicates: list[IncidentSummary]

    @dataclass
    class DraftWritten(Message):
        """The form's draft is on disk."""

    @dataclass
    class LookupFailed(CallFailed):
        """A lookup failed: said at `field` (None: at the top of the form)."""

        field: str | None = None

    class SaveFailed(CallFailed):
        """The save (or the link to an open incident) did not happen."""

    class DraftFailed(CallFailed):
        """The draft could not be written: typing is not safe until it can."""

    def __init__(self, state: EntryState | None = None) -> None:
        super().__init__()
        self.state = state or EntryState()
        self.types: list = []
        self.type_by_code: dict[str, Any] = {}
        self.location_matches: list = []
        # When the addresses offered came from the station's cache: when it was read.
        self.location_cache_as_of: datetime | None = None
        self.type_matches: list = []
        self.person_matches: list = []
        self.person_summaries: dict[int, Any] = {}
        self.duplicates: list = []
        self._draft_timer: Timer | None = None
        self._lookup_timers: dict[str, Timer] = {}
        self._saving = False
        self._loading = True
        self._save_failed_on_database = False
        # The offline journal could not be written: saves go to the database only.
        self._offline_failed = False

    # --- layout ------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="entry"):
            with VerticalScroll(id="entry-form"):
                yield Static("", id="form-error", classes="field-error", markup=False)
                with Horizontal(classes="row"):
                    yield Label("Caller", classes="field-label")
                    yield Input(placeholder="name", id="caller-name", max_length=120)
                yield Static("", id="caller_name-error", classes="field-error", markup=False)
                with Horizontal(classes="row"):
                    yield Label("Phone", classes="field-label")
                    yield Input(placeholder="number", id="caller-phone", max_length=24)
                yield Static("", id="caller-phone-error", classes="field-error", markup=False)
                with Horizontal(classes="row"):
                    yield Label("Relation", classes="field-label")
                    yield Input(
                        placeholder="to the incident (victim, neighbour…)",
                        id="caller-relationship",
                        max_length=80,
                    )
                yield Static(
                    "", id="caller_relationship-error", classes="field-error", markup=False
                )
                with Horizontal(classes="row"):
                    yield Label("Location", classes="field-label")
                    yield LookupInput(
                        placeholder="address or postcode; Enter picks a match",
                        id="location",
                        max_length=200,
                    )
                yield MatchList(id="location-matches")
                yield Static("", id="location-status", classes="field-status", markup=False)
                yield Static("", id="location_text-error", classes="field-error", markup=False)
                with Horizontal(classes="row"):
                    yield Label("Type", classes="field-label")
                    yield LookupInput(
                        placeholder="a few letters: dom, burg, rtc", id="type", max_length=80
                    )
                yield MatchList(id="type-matches")
                yield Static("", id="type_code-error", classes="field-error", markup=False)
                with Horizontal(classes="row"):
                    yield Label("Grade", classes="field-label")
                    yield Input(placeholder="G1-G4", id="grade", max_length=8)
                    yield Static("", id="grade-hint", classes="field-hint", markup=False)
                yield Static("", id="grade-error", classes="field-error", markup=False)
                with Vertical(id="thrive"):
                    with Horizontal(classes="row"):
                        yield Label("THRIVE", classes="field-label")
                        yield Checkbox("Skip: not assessed (alt+k)", id="thrive-skip")
                    for part in THRIVE_PARTS:
                        with Horizontal(classes="row thrive-row"):
                            yield Label(THRIVE_SHORT[part], classes="field-label")
                            yield Input(id=f"thrive-{part}", max_length=500)
                    yield Static("", id="thrive-error", classes="field-error", markup=False)
                with Horizontal(classes="row flags"):
                    yield Label("Flags", classes="field-label")
                    yield Checkbox(IncidentFlag("domestic").label.capitalize(), id="flag-domestic")
                    yield Checkbox(
                        IncidentFlag("child_present").label.capitalize(), id="flag-child_present"
                    )
                with Horizontal(classes="row flags"):
                    yield Label("", classes="field-label")
                    yield Checkbox(IncidentFlag("weapons").label.capitalize(), id="flag-weapons")
                    yield Checkbox(
                        IncidentFlag("possible_crime").label.capitalize(), id="flag-possible_crime"
                    )
                yield Label("Narrative", classes="field-label")
                yield LimitedTextArea(
                    id="narrative", soft_wrap=True, show_line_numbers=False, max_length=TEXT_LIMIT
                )
                yield Static("", id="narrative-count", classes="field-hint", markup=False)
                yield Static("", id="narrative-error", classes="field-error", markup=False)
                with Horizontal(classes="row"):
                    yield Label("Person", classes="field-label")
                    yield LookupInput(
                        placeholder="name to link; alt+a adds a new person",
                        id="person-query",
                        max_length=120,
                    )
                yield MatchList(id="person-matches")
                yield Static("", id="person-hint", classes="field-hint", markup=False)
                yield Static("", id="linked-persons", markup=False)
            yield WarningPanel(id="warnings")

    def on_mount(self) -> None:
        if self.state.call_taken_at is None:  # a new call (a draft keeps its own time)
            self.state.call_taken_at = self.app.clock()
        # This session holds the form's draft while the form is open (data/drafts.py).
        self.app.claim_draft(self.journal)
        self._apply_state()
        self.focus_now(self.query_one("#caller-name", Input))
        self.load_types()
        if self.state.location_id is not None:
            self.load_location_context(self.state.location_id)
        elif self.state.location_text:
            self.query_one(WarningPanel).show_unverified(self.state.location_text)
        if self.state.persons:
            self.load_persons_markers([p["id"] for p in self.state.persons])
        self._loading = False

    def _apply_state(self) -> None:
        """Put the state (a restored draft, or blanks) into the widgets."""
        s = self.state
        self.query_one("#caller-name", Input).value = record_value(s.caller_name)
        self.query_one("#caller-phone", Input).value = record_value(s.caller_phone)
        self.query_one("#caller-relationship", Input).value = record_value(s.caller_relationship)
        self.query_one("#location", Input).value = record_value(s.location_text)
        self.query_one("#type", Input).value = record_value(s.type_text)
        self.query_one("#grade", Input).value = record_value(s.grade)
        for part in THRIVE_PARTS:
            self.query_one(f"#thrive-{part}", Input).value = record_value(s.thrive.get(part, ""))
        self.query_one("#thrive-skip", Checkbox).value = s.thrive_skipped
        for flag in FLAGS:
            self.query_one(f"#flag-{flag}", Checkbox).value = s.flags[flag]
        self.query_one("#narrative", TextArea).text = record_value(s.narrative, multiline=True)
        self._show_location_status()
        self._show_linked_persons()
        self._show_narrative_count()

    # --- reading the widgets back into the state ------------------------------------------

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        if self._loading:
            return
        widget_id = event.input.id or ""
        value = event.value
        s = self.state
        if widget_id == "caller-name":
            s.caller_name = value
        elif widget_id == "caller-phone":
            s.caller_phone = value
            self._clear_error("caller_phone")
        elif widget_id == "caller-relationship":
            s.caller_relationship = value
        elif widget_id == "location":
            if value != s.location_text:
                s.location_text = value
                s.location_id = None
                # The last place's hazards and people no longer apply.
                self.query_one(WarningPanel).clear_location()
                self._clear_error("location_text")
                self._show_location_status()
                self._schedule_lookup("location", self.lookup_locations, value)
        elif widget_id == "type":
            s.type_text = value
            if self._type_text_left_code(value):
                s.type_code = None
            self._clear_error("type_code")
            self._show_type_matches(value)
        elif widget_id == "grade":
            s.grade = value.strip().upper()
            s.grade_chosen = bool(value.strip())
            self._clear_error("grade")
            self._show_grade_hint()
        elif widget_id.startswith("thrive-"):
            s.thrive[widget_id.removeprefix("thrive-")] = value
            self._clear_error("thrive")
        elif widget_id == "person-query":
            self._schedule_lookup("person", self.lookup_persons, value)
        self._schedule_draft()

    @on(Checkbox.Changed)
    def checkbox_changed(self, event: Checkbox.Changed) -> None:
        if self._loading:
            return
        widget_id = event.checkbox.id or ""
        if widget_id == "thrive-skip":
            self.state.thrive_skipped = event.value
            self._clear_error("thrive")
        elif widget_id.startswith("flag-"):
            self.state.flags[widget_id.removeprefix("flag-")] = event.value
            self._show_grade_hint()
            self._check_duplicates()
        self.save_draft_now()

    @on(TextArea.Changed, "#narrative")
    def narrative_changed(self, event: TextArea.Changed) -> None:
        if self._loading:
            return
        self.state.narrative = event.text_area.text
        self._show_narrative_count()
        if len(self.state.narrative) < TEXT_LIMIT:  # at the limit, "not taken" stays said
            self._clear_error("narrative")
        self._schedule_draft()

    @on(Input.Blurred)
    def field_left(self, event: Input.Blurred) -> None:
        widget_id = event.input.id or ""
        if widget_id == "type":
            self._accept_type_match()
        elif widget_id == "location":
            self.query_one("#location-matches", MatchList).hide()
            problem = postcode_problem(self.state.location_text)
            if problem:
                self._show_error("location_text", problem)
            elif self.state.location_id is None and self.state.location_text.strip():
                self.query_one(WarningPanel).show_unverified(self.state.location_text)
                self._check_duplicates()
        elif widget_id == "caller-phone":
            self._check_duplicates()
        self.save_draft_now()

    def on_descendant_blur(self, event) -> None:
        if getattr(event.widget, "id", None) == "narrative":
            self.save_draft_now()

    # --- Enter and the match lists ---------------------------------------------------------

    def action_next_field(self) -> None:
        self.focus_next()

    def action_previous_field(self) -> None:
        self.focus_previous()

    def action_enter_field(self) -> None:
        focused = self.focused
        if not isinstance(focused, Input):
            raise SkipAction()  # a flag toggles, the narrative takes a new line
        self._enter_in(focused.id or "")

    def action_move_match(self, delta: int) -> None:
        lists = {
            "location": "#location-matches",
            "type": "#type-matches",
            "person-query": "#person-matches",
        }
        selector = lists.get(getattr(self.focused, "id", None) or "")
        if selector is None:
            raise SkipAction()  # arrows keep their usual meaning elsewhere
        self.query_one(selector, MatchList).move(delta)

    def _enter_in(self, widget_id: str) -> None:
        if widget_id == "location":
            if self._accept_location_match():
                self.focus_next()
            return
        if widget_id == "type":
            if self._accept_type_match():
                self.focus_next()
            return
        if widget_id == "person-query":
            self._choose_person_match()
            return
        self.focus_next()

    def _accept_location_match(self) -> bool:
        matches = self.query_one("#location-matches", MatchList)
        if not matches.option_count or matches.highlighted is None:
            return True  # nothing to pick: Enter just moves on (unverified stays flagged)
        match = self.location_matches[matches.highlighted]
        self.state.location_id = match.id
        # What the form shows and saves: the stored address through the display door.
        self.state.location_text = record_value(
            ", ".join(p for p in (match.address, match.town, match.postcode) if p)
        )
        with self.prevent(Input.Changed):
            self.query_one("#location", Input).value = record_value(self.state.location_text)
        matches.hide()
        self._clear_error("location_text")
        self._show_location_status()
        self.load_location_context(match.id)
        self.save_draft_now()
        return True

    def _show_type_matches(self, text: str) -> None:
        words = text.lower().split()
        if not words or self.state.type_code:
            self.query_one("#type-matches", MatchList).hide()
            self.type_matches = []
            return
        query = " ".join(words)

        def rank(option) -> tuple[int, str]:
            # "dom" must find DOM (Domestic incident) before "Domestic abuse - ...".
            if option.code.lower() == query:
                return (0, option.label)
            if option.code.lower().startswith(query):
                return (1, option.label)
            if option.label.lower().startswith(query):
                return (2, option.label)
            return (3, option.label)

        self.type_matches = sorted(
            (
                t
                for t in self.types
                if all(w in f"{t.code} {t.label} {t.heading}".lower() for w in words)
            ),
            key=rank,
        )[:6]
        self.query_one("#type-matches", MatchList).show(
            [record_content(f"{t.label}  ({t.heading})") for t in self.type_matches]
        )

    def _type_text_left_code(self, text: str) -> bool:
        """True when the type field no longer reads as the chosen type. Until the types
        have loaded (a restored draft) the chosen code cannot be checked, so it stands."""
        code = self.state.type_code
        return code is not None and bool(self.type_by_code) and text != self._type_label(code)

    def _accept_type_match(self) -> bool:
        if self.state.type_code:
            return True
        if self.type_matches:
            highlighted = self.query_one("#type-matches", MatchList).highlighted
            index = (
                highlighted
                if highlighted is not None and highlighted < len(self.type_matches)
                else 0
            )
            self._choose_type(self.type_matches[index])
            return True
        if self.state.type_text.strip():
            self._show_error(
                "type_code",
                "no incident type matches that: type a few letters, e.g. dom, burg, rtc",
            )
            return False
        return True

    def _choose_type(self, chosen) -> None:
        s = self.state
        s.type_code = chosen.code
        s.type_text = record_value(chosen.label)
        with self.prevent(Input.Changed):
            self.query_one("#type", Input).value = record_value(chosen.label)
        self.query_one("#type-matches", MatchList).hide()
        # The type sets the flags it implies; the operator can still clear them.
        for flag, implied in (
            ("domestic", chosen.domestic),
            ("possible_crime", chosen.possible_crime),
        ):
            if implied and not s.flags[flag]:
                s.flags[flag] = True
                with self.prevent(Checkbox.Changed):
                    self.query_one(f"#flag-{flag}", Checkbox).value = True
        self._clear_error("type_code")
        self._show_grade_hint()
        self._check_duplicates()
        self.save_draft_now()

    def _type_label(self, code: str) -> str:
        chosen = self.type_by_code.get(code)
        return chosen.label if chosen else ""

    # --- grade -------------------------------------------------------------------------------

    def suggested_grade(self) -> str | None:
        chosen = self.type_by_code.get(self.state.type_code or "")
        if chosen is None:
            return None
        flags = self.state.flags
        return suggest_grade(
            chosen.suggested_grade,
            weapons=flags["weapons"],
            child_present=flags["child_present"],
            domestic=flags["domestic"],
            grade_codes=self._grade_codes(),
        )

    def _grade_codes(self) -> tuple[str, ...]:
        return tuple(g.code for g in self.app.settings.grades)

    def _show_grade_hint(self) -> None:
        """The suggestion sits in the empty field as a placeholder: typing replaces it,
        leaving it empty accepts it."""
        suggestion = self.suggested_grade()
        grade_input = self.query_one("#grade", Input)
        grade_input.placeholder = suggestion or "G1-G4"
        names = {g.code: g.name for g in self.app.settings.grades}
        hint = (
            f"suggested {suggestion} {names.get(suggestion, '')}; empty accepts it"
            if suggestion
            else ""
        )
        self.query_one("#grade-hint", Static).update(hint)

    def _normalised_grade(self) -> str | None:
        text = self.state.grade.strip()
        if not text:
            return self.suggested_grade()
        # Not a grade: sent as typed, and the service names the field.
        return parse_grade(text, self._grade_codes()) or text.upper()

    # --- persons -----------------------------------------------------------------------------

    def _choose_person_match(self) -> None:
        matches = self.query_one("#person-matches", MatchList)
        if not matches.option_count or matches.highlighted is None:
            self.query_one("#person-hint", Static).update("No person chosen: type a name first.")
            return
        person = self.person_matches[matches.highlighted]

        def chosen(role: str | None) -> None:
            if role:
                self._link_person(person, role)

        from controlroom.screens.incident.person_role import PersonRoleScreen

        self.app.push_screen(PersonRoleScreen(f"{person.forename} {person.surname}"), chosen)

    def _link_person(self, person, role: str) -> None:
        if any(p["id"] == person.id and p["role"] == role for p in self.state.persons):
            return
        self.person_summaries[person.id] = person
        self.state.persons.append(
            {"id": person.id, "role": role, "name": f"{person.forename} {person.surname}"}
        )
        self.query_one("#person-query", Input).value = ""
        self.query_one("#person-matches", MatchList).hide()
        # What the hint said was about the search just answered: it no longer applies.
        self.query_one("#person-hint", Static).update("")
        self._show_linked_persons()
        self.save_draft_now()

    def action_new_person(self) -> None:
        from controlroom.screens.incident.person_role import PersonRoleScreen
        from controlroom.screens.person.new import NewPersonScreen

        def made(person) -> None:
            if person is None:
                return

            def chosen(role: str | None) -> None:
                if role:
                    self._link_person(person, role)

            self.app.push_screen(PersonRoleScreen(f"{person.forename} {person.surname}"), chosen)

        query = self.query_one("#person-query", Input).value
        self.app.push_screen(NewPersonScreen(query), made)

    def action_unlink_person(self) -> None:
        if self.state.persons:
            self.state.persons.pop()
            self._show_linked_persons()
            self.save_draft_now()

    def _show_linked_persons(self) -> None:
        if not self.is_mounted:
            return
        text = (
            Content("\n").join(
                record_content(f"{p['role'].upper()}: {p.get('name', p['id'])}")
                for p in self.state.persons
            )
            if self.state.persons
            else Content("")
        )
        self.query_one("#linked-persons", Static).update(text)
        linked = [
            (p["role"], self.person_summaries[p["id"]])
            for p in self.state.persons
            if p["id"] in self.person_summaries
        ]
        self.query_one(WarningPanel).show_persons(linked)

    # --- messages at the fields ------------------------------------------------------------

    def _show_error(self, field_name: str, message: str) -> None:
        target = self.query(f"#{field_name}-error").results(Static)
        widget = next(target, None) or self.query_one("#form-error", Static)
        widget.update(record_content(message))
        widget.add_class("-shown")

    def _clear_error(self, field_name: str) -> None:
        for widget in self.query(f"#{field_name}-error").results(Static):
            # Only a shown error is cleared: an update lays the form out again, and the
            # narrative asks this on every key.
            if widget.has_class("-shown"):
                widget.update("")
                widget.remove_class("-shown")

    def _show_location_status(self) -> None:
        status = self.query_one("#location-status", Static)
        # Asked on every key: `show` leaves the line alone while its words stay the same
        # (an update lays the form out again).
        as_of = self.location_cache_as_of
        cached = (
            ""
            if as_of is None
            else f"from this station's cache, {cache_age(as_of, self.app.clock())} old"
        )
        if self.state.location_id is not None:
            show(status, f"✓ known address ({cached})" if cached else "✓ known address")
        elif self.state.location_text.strip() and self.location_matches and cached:
            show(status, f"Addresses {cached}")
        elif self.state.location_text.strip():
            show(status, "UNVERIFIED: not a known address")
        else:
            show(status, "")

    def _show_narrative_count(self) -> None:
        length = len(self.state.narrative)
        counter = self.query_one("#narrative-count", Static)
        words = f"{length:,} / {TEXT_LIMIT:,} characters" if length else ""
        before = str(counter.content)
        if before != words:
            # One line while there is text: a new layout only when it appears or goes.
            counter.update(words, layout=bool(before) != bool(words))
        counter.set_class(length > TEXT_LIMIT, "-over")

    # --- jumping around ----------------------------------------------------------------------

    def action_jump(self, widget_id: str) -> None:
        self.focus_now(self.query_one(f"#{widget_id}"))

    def action_skip_thrive(self) -> None:
        box = self.query_one("#thrive-skip", Checkbox)
        box.value = not box.value

    # --- lookups in workers -------------------------------------------------------------------

    def _schedule_lookup(self, kind: str, lookup: Callable[[str], object], text: str) -> None:
        timer = self._lookup_timers.pop(kind, None)
        if timer is not None:
            timer.stop()
        if self.lookup_delay <= 0:
            lookup(text)
            return
        self._lookup_timers[kind] = self.set_timer(self.lookup_delay, lambda: lookup(text))

    def load_types(self) -> None:
        from controlroom.services import offline

        uow_factory, data_dir = self.app.uow_factory, self.app.settings.data_dir
        away = keeps_offline(self.app.availability)
        # From the database when it answers (and cached on this station), else as last
        # read: entry carries on during an outage (straight from the cache when the
        # database is already known to be away).
        self.run_service(
            lambda: offline.incident_types_or_cached(uow_factory, data_dir, offline=away)[0],
            self.TypesLoaded,
            doing="read the incident types",
            group="types",
        )

    def lookup_locations(self, text: str) -> None:
        from controlroom.services import area_cache, locations

        if len(text.strip()) < 3:
            self.post_message(self.LocationsFound(text, []))
            return
        uow_factory, data_dir = self.app.uow_factory, self.app.settings.data_dir
        username = self.app.username
        away = keeps_offline(self.app.availability)

        def find() -> tuple[list[LocationMatch], datetime | None]:
            # The database away: the station's gazetteer of its area (said as such).
            # Answering, or no gazetteer here: the database (a failure said as usual).
            if away:
                cached = area_cache.match_cached(data_dir, username, text)
                if cached is not None:
                    return cached.matches, cached.as_of
            try:
                return locations.match_locations(uow_factory(), text), None
            except Exception:
                cached = area_cache.match_cached(data_dir, username, text)
                if cached is None:
                    raise
                return cached.matches, cached.as_of

        self.run_service(
            find,
            lambda found: self.LocationsFound(text, found[0], found[1]),
            doing="look up the address",
            group="location-lookup",
            failed=lambda failure: self.LookupFailed(failure, "location_text"),
        )

    def load_location_context(self, location_id: int) -> None:
        from controlroom.services import area_cache, locations

        app = self.app
        uow_factory, actor, clock = app.uow_factory, app.actor, app.clock
        data_dir, username = app.settings.data_dir, app.username
        away = keeps_offline(app.availability)
        audit_on_station = app.audit_on_station

        def from_cache() -> tuple[LocationContext, datetime | None, bool] | None:
            cached = area_cache.cached_context(data_dir, username, location_id)
            if cached is None:
                return None
            # A read of what the station kept: audited into its journal first.
            audit_on_station(area_cache.audit_event(actor, cached, clock()))
            return cached.context, cached.as_of, cached.seen

        def load() -> tuple[LocationContext, datetime | None, bool]:
            if away:
                found = from_cache()
                if found is not None:
                    return found
            try:
                now = clock()
                context = locations.location_context(uow_factory(), actor, location_id, now)
            except Exception:
                found = from_cache()
                if found is None:
                    raise
                return found
            try:
                area_cache.remember_seen(data_dir, username, context, now)
            except OSError:
                pass  # a convenience: what was shown is not lost
            return context, None, True

        self.run_service(
            load,
            lambda loaded: self.LocationContextLoaded(location_id, *loaded),
            doing="read the location's history",
            group="location-context",
            failed=lambda failure: self.LookupFailed(failure, "location_text"),
        )

    def lookup_persons(self, text: str) -> None:
        from controlroom.services import persons

        if len(text.strip()) < 2:
            self.post_message(self.PersonsFound(text, []))
            return
        uow_factory, actor, today = self.app.uow_factory, self.app.actor, self.app.local_today
        self.run_service(
            lambda: persons.find_persons(uow_factory(), actor, text, today=today()),
            lambda found: self.PersonsFound(text, found),
            doing="search for the person",
            group="person-lookup",
            failed=lambda failure: self.LookupFailed(failure, None),
        )

    def load_persons_markers(self, person_ids: list[int]) -> None:
        from controlroom.services import persons

        uow_factory, actor, today = self.app.uow_factory, self.app.actor, self.app.local_today
        self.run_service(
            lambda: [
                persons.person_markers(uow_factory(), actor, person_id, today=today())
                for person_id in person_ids
            ],
            self.PersonMarkersLoaded,
            doing="read the linked persons' markers",
            group="person-markers",
            failed=lambda failure: self.LookupFailed(failure, None),
        )

    def _check_duplicates(self) -> None:
        s = self.state
        if s.type_code and (s.location_id is not None or s.caller_phone.strip()):
            self.find_duplicates(s.type_code, s.location_id, s.caller_phone)

    def find_duplicates(self, type_code: str, location_id: int | None, phone: str) -> None:
        from controlroom.services import incidents

        app = self.app
        uow_factory, actor, clock, settings = app.uow_factory, app.actor, app.clock, app.settings
        self.run_service(
            lambda: incidents.find_duplicate_calls(
                uow_factory(),
                actor,
                type_code=type_code,
                location_id=location_id,
                caller_phone=phone,
                now=clock(),
                radius_m=settings.duplicate_radius_m,
                window=timedelta(minutes=settings.duplicate_window_minutes),
            ),
            self.DuplicatesFound,
            doing="check for duplicate calls",
            group="duplicates",
            # A failed duplicate check must not stop the call being recorded: it finds
            # none (the failure is logged).
            failed=lambda failure: self.DuplicatesFound([]),
        )

    @on(TypesLoaded)
    def types_loaded(self, message: TypesLoaded) -> None:
        self.types = list(message.types)
        self.type_by_code = {t.code: t for t in self.types}
        if self.state.type_code in self.type_by_code:
            self._show_grade_hint()
        elif self.state.type_text and not self.state.type_code:
            self._show_type_matches(self.state.type_text)

    @on(LocationsFound)
    def locations_found(self, message: LocationsFound) -> None:
        if message.query != self.state.location_text or self.state.location_id is not None:
            return  # a stale answer to an older query
        self.location_matches = list(message.matches)
        self.location_cache_as_of = message.as_of
        self._show_location_status()
        matches = self.query_one("#location-matches", MatchList)
        if self.focused is self.query_one("#location"):
            matches.show(
                [
                    record_content(", ".join(p for p in (m.address, m.town, m.postcode) if p))
                    for m in self.location_matches
                ]
            )

    @on(LocationContextLoaded)
    def location_context_loaded(self, message: LocationContextLoaded) -> None:
        if message.location_id == self.state.location_id:
            self.query_one(WarningPanel).show_location(
                message.context, as_of=message.as_of, seen=message.seen
            )
            self._check_duplicates()

    @on(PersonsFound)
    def persons_found(self, message: PersonsFound) -> None:
        if message.query != self.query_one("#person-query", Input).value:
            return
        self.person_matches = list(message.persons)
        self.query_one("#person-matches", MatchList).show(
            [
                record_content(
                    f"{p.surname.upper()}, {p.forename}  "
                    f"{p.date_of_birth or 'DOB unknown'}  " + ", ".join(m.label for m in p.markers)
                )
                for p in self.person_matches
            ]
        )
        if self.person_matches:
            hint = "Enter links the highlighted person"
        elif message.query.strip():
            hint = "No match. Check the spelling, or link them later from the incident."
        else:
            hint = ""  # nothing asked (the field was just emptied): nothing to say
        self.query_one("#person-hint", Static).update(hint)

    @on(PersonMarkersLoaded)
    def person_markers_loaded(self, message: PersonMarkersLoaded) -> None:
        for person in message.persons:
            self.person_summaries[person.id] = person
        self._show_linked_persons()

    @on(DuplicatesFound)
    def duplicates_found(self, message: DuplicatesFound) -> None:
        self.duplicates = list(message.duplicates)
        self.query_one(WarningPanel).show_duplicates(self.duplicates)

    @on(LookupFailed)
    def lookup_failed(self, message: LookupFailed) -> None:
        """Said at its field, the focus left where the operator is typing: a lookup that
        failed late (the database not answering) must not pull them back a field."""
        message.stop()
        self._show_error(message.field or "form", message.failure.sentence)

    @on(SaveFailed)
    def save_failed(self, message: SaveFailed) -> None:
        message.stop()
        self._saving = False
        failure = message.failure
        if failure.kind is FailureKind.DATABASE and not self._offline_failed:
            # The database did not answer the save: the call is kept on this station and
            # replayed when it answers (the same idempotency key: once, even if this try
            # got through).
            self._saving = True
            self.save_offline(self._new_incident())
            return
        # Kept, so that the database's return can say the save is one key away.
        self._save_failed_on_database = failure.kind is FailureKind.DATABASE
        # A rule or a refusal goes at the top of the form; a field's problem at its field.
        field = failure.field if failure.kind is FailureKind.INPUT else None
        self._show_failure(field, failure.save_words())

    @on(DatabaseReturned)
    def database_returned(self, message: DatabaseReturned) -> None:
        """The database answers again after an outage: the form recovers by itself. What
        it could not read is read again (the incident types, the warnings); a save that
        failed on the outage is one key away, with the same idempotency key, so it
        cannot make a second incident even if the first try got through."""
        message.stop()
        if not self.types:
            self.load_types()
        if self.state.location_id is not None:
            self.load_location_context(self.state.location_id)
        if self.state.persons:
            self.load_persons_markers([p["id"] for p in self.state.persons])
        if self._save_failed_on_database:
            self._clear_error("form")
            self._show_error(
                "form",
                "The database answers again: ctrl+s saves this incident (once, even if "
                "the first try got through).",
            )

    @on(DraftFailed)
    def draft_failed(self, message: DraftFailed) -> None:
        message.stop()
        # Said loudly: the operator must know typing is not safe.
        self._show_failure(None, f"DRAFT NOT SAVED. {message.failure.sentence}")

    def _show_failure(self, field_name: str | None, sentence: str) -> None:
        if field_name:
            self._show_error(field_name, sentence)
            self._focus_field(field_name)
        else:
            self._show_error("form", sentence)
            # At the top of the form: bring it into view, or at 80x24 an operator typing
            # the narrative would never see why the save did not happen.
            self.query_one("#form-error").scroll_visible(animate=False)

    def _focus_field(self, field_name: str) -> None:
        widget_ids = {
            "location_text": "location",
            "type_code": "type",
            "grade": "grade",
            "narrative": "narrative",
            "caller_phone": "caller-phone",
            "caller_name": "caller-name",
            "thrive": "thrive-threat",
            "caller_relationship": "caller-relationship",
        }
        target = widget_ids.get(field_name)
        if target:
            self.focus_now(self.query_one(f"#{target}"))

    # --- drafts --------------------------------------------------------------------------------

    def _schedule_draft(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY_SECONDS, self.save_draft_now)

    @property
    def journal(self) -> DraftJournal:
        """This form's own draft (its incident's idempotency key names it)."""
        from controlroom.services.drafts import form_key

        return self.app.draft_journal.for_form(form_key(self.state.idempotency_key))

    def has_unsaved_typing(self) -> bool:
        """Something typed on this form is not yet an incident (quitting asks first)."""
        if self._saving:
            return False
        self._sync_state_from_widgets()
        return not self.state.is_blank()

    def save_draft_now(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        if self._saving or self.state.is_blank():
            return
        self.write_draft(self.state.to_draft())

    def write_draft(self, draft: dict[str, Any]) -> None:
        journal = self.journal
        self.run_service(
            lambda: journal.save(draft),
            lambda _: self.DraftWritten(),
            doing="write the draft of this form",
            group="draft",
            failed=self.DraftFailed,
        )

    # --- save, link, cancel ----------------------------------------------------------------------

    def _new_incident(self) -> NewIncident:
        from controlroom.services.incidents import NewIncident

        s = self.state
        thrive = (
            None
            if s.thrive_skipped or not any(v.strip() for v in s.thrive.values())
            else {part: (s.thrive[part].strip() or None) for part in THRIVE_PARTS}
        )
        return NewIncident(
            idempotency_key=s.idempotency_key,
            type_code=s.type_code or "",
            location_text=s.location_text.strip(),
            location_id=s.location_id,
            caller_name=s.caller_name.strip(),
            caller_phone=s.caller_phone.strip(),
            caller_relationship=s.caller_relationship.strip(),
            grade=self._normalised_grade(),
            thrive=thrive,
            thrive_skipped=s.thrive_skipped,
            narrative=s.narrative,
            persons=tuple((p["id"], p["role"]) for p in s.persons),
            call_taken_at=s.call_taken_at,
            **s.flags,
        )

    def _local_problems(self) -> dict[str, str]:
        """What can be told without the database, checked before the save is sent."""
        s = self.state
        problems: dict[str, str] = {}
        if not s.location_text.strip():
            problems["location_text"] = (
                "a location is required: an address, a postcode or a description"
            )
        elif problem := postcode_problem(s.location_text):
            problems["location_text"] = problem
        if not s.type_code:
            if not s.type_text.strip():
                problems["type_code"] = "an incident type is required: type a few letters, e.g. dom"
            elif not self.types:  # never read: the database did not answer
                problems["type_code"] = (
                    "the incident types could not be read from the database yet: what you "
                    "typed is kept and matched when it answers"
                )
            else:
                problems["type_code"] = (
                    "no incident type matches that: type a few letters, e.g. dom"
                )
        if len(s.narrative) > TEXT_LIMIT:
            problems["narrative"] = (
                f"the narrative is {len(s.narrative):,} characters; the limit is "
                f"{TEXT_LIMIT:,}. Shorten it or move detail to a log note "
                "after saving."
            )
        has_thrive = any(v.strip() for v in s.thrive.values())
        if not has_thrive and not s.thrive_skipped:
            problems["thrive"] = (
                "THRIVE not assessed: fill it in, or press alt+k to skip it explicitly"
            )
        return problems

    def _sync_state_from_widgets(self) -> None:
        """Read every field as it stands now.

        The state normally follows the widgets through their Changed messages, but a
        priority key (ctrl+s, alt+d) is handled the moment it is read, possibly before
        the messages of the keys typed just ahead of it: what is on screen wins.
        """
        s = self.state
        s.caller_name = self.query_one("#caller-name", Input).value
        s.caller_phone = self.query_one("#caller-phone", Input).value
        s.caller_relationship = self.query_one("#caller-relationship", Input).value
        location = self.query_one("#location", Input).value
        if location != s.location_text:
            s.location_text, s.location_id = location, None
        type_text = self.query_one("#type", Input).value
        if type_text != s.type_text:
            s.type_text = type_text
            if self._type_text_left_code(type_text):
                s.type_code = None
        if not s.type_code and s.type_text.strip():
            self._show_type_matches(s.type_text)
        grade = self.query_one("#grade", Input).value
        s.grade, s.grade_chosen = grade.strip().upper(), bool(grade.strip())
        for part in THRIVE_PARTS:
            s.thrive[part] = self.query_one(f"#thrive-{part}", Input).value
        s.thrive_skipped = self.query_one("#thrive-skip", Checkbox).value
        for flag in FLAGS:
            s.flags[flag] = self.query_one(f"#flag-{flag}", Checkbox).value
        s.narrative = self.query_one("#narrative", TextArea).text

    def action_save(self) -> None:
        if self._saving:
            return
        self._sync_state_from_widgets()
        self._accept_type_match()
        for name in (
            "form",
            "location_text",
            "type_code",
            "grade",
            "narrative",
            "thrive",
            "caller_phone",
            "caller_name",
            "caller_relationship",
        ):
            self._clear_error(name)
        problems = self._local_problems()
        if problems:
            for field_name, message in problems.items():
                self._show_error(field_name, message)
            self._focus_field(next(iter(problems)))
            return
        availability = self.app.availability
        if keeps_offline(availability) and not self._offline_failed:
            # The draft is written by the keeping worker itself (`save_offline`).
            self._saving = True
            self.save_offline(self._new_incident())
            return
        if availability.state is not DatabaseState.ANSWERING:
            self.save_draft_now_forced()
            # Said at once: sending it would only wait out the engine's bounds.
            self._save_failed_on_database = True
            self._show_failure(
                None,
                f"NOT SAVED — the database is {availability.state.value}. Your typing is "
                "kept as a draft on this station; ctrl+s saves it when the database "
                "answers.",
            )
            return
        self._saving = True
        self._save_failed_on_database = False
        self.save_incident(self._new_incident())

    @dataclass
    class SavedOffline(Message):
        """The incident is kept in this station's offline journal."""

        provisional_reference: str
        waiting: int

    class OfflineFailed(CallFailed):
        pass

    def save_offline(self, new_incident: NewIncident) -> None:
        """Keep the call in this session's offline journal (on the disk when it returns).
        The draft is written first, by the same worker, before the journal and its
        clearing: a draft written on a thread of its own could land after the clearing
        and offer the call again (if the journal cannot be written, the draft keeps it)."""
        app = self.app
        record, actor, clock, journal = app.record_offline, app.actor, app.clock, self.journal
        draft = self.state.to_draft()

        def keep():
            _draft_before_sending(journal, draft)
            kept = record(actor, new_incident, clock())
            _clear_saved_draft(journal)
            return kept

        self.run_service(
            keep,
            lambda kept: self.SavedOffline(kept.provisional_reference, kept.waiting),
            doing="keep the incident on this station",
            group="save",
            failed=self.OfflineFailed,
        )

    @on(SavedOffline)
    def _saved_offline(self, message: SavedOffline) -> None:
        message.stop()
        self.app.form_saved_offline(self, message.provisional_reference, message.waiting)

    @on(OfflineFailed)
    def _offline_failed_said(self, message: OfflineFailed) -> None:
        """Neither the database nor this station's disk took it: the draft still has it."""
        message.stop()
        self._saving = False
        self._offline_failed = True
        self._save_failed_on_database = True
        self._show_failure(None, f"NOT SAVED, not even on this station. {message.failure.sentence}")

    def save_draft_now_forced(self) -> None:
        """The draft written now, as it is (not after the typing pause)."""
        self.write_draft(self.state.to_draft())

    def save_incident(self, new_incident: NewIncident) -> None:
        from controlroom.services import incidents

        app = self.app
        uow_factory, actor, clock, journal = (
            app.uow_factory,
            app.actor,
            app.clock,
            self.journal,
        )
        grade_codes = self._grade_codes()
        draft = self.state.to_draft()

        def save() -> SavedIncident:
            _draft_before_sending(journal, draft)
            saved = incidents.save_new_incident(
                uow_factory(), actor, new_incident, clock(), grade_codes
            )
            _clear_saved_draft(journal)
            return saved

        self.run_service(
            save,
            lambda saved: IncidentSaved(saved.reference),
            doing="save the incident",
            group="save",
            failed=self.SaveFailed,
        )

    def action_link_duplicate(self) -> None:
        self._sync_state_from_widgets()
        if not self.duplicates:
            self._show_error(
                "form",
                "No open incident to link to: alt+d works when the "
                "warnings list a possible same incident.",
            )
            return
        target = self.duplicates[0]

        def answered(yes: bool | None) -> None:
            if yes:
                self._saving = True
                self.link_to(target.id, self._new_incident())

        self.app.push_screen(
            ConfirmScreen(
                f"Add this call to {target.reference}?",
                f"{target.type_label} at {target.location_text}. The caller's details and "
                "account go into its log; no new incident is made.",
            ),
            answered,
        )

    def link_to(self, incident_id: int, call: NewIncident) -> None:
        from controlroom.services import incidents

        app = self.app
        uow_factory, actor, clock, journal = (
            app.uow_factory,
            app.actor,
            app.clock,
            self.journal,
        )
        draft = self.state.to_draft()

        def link() -> SavedIncident:
            _draft_before_sending(journal, draft)
            saved = incidents.link_call(uow_factory(), actor, incident_id, call, clock())
            _clear_saved_draft(journal)
            return saved

        self.run_service(
            link,
            lambda saved: IncidentSaved(saved.reference),
            doing="add this call to the open incident",
            group="save",
            failed=self.SaveFailed,
        )

    def action_cancel(self) -> None:
        if self.state.is_blank():
            self._discard()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._discard()

        self.app.push_screen(
            ConfirmScreen("Discard this incident?", "Everything typed in this form will be lost."),
            answered,
        )

    def _discard(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        try:
            self.journal.clear()
        except OSError:
            pass  # nothing to keep: the operator said discard
        self.app.close_form(self)

    @on(IncidentSaved)
    def _saved(self, message: IncidentSaved) -> None:
        """Saved: the incident's view takes this form's place (the app's call mode)."""
        message.stop()
        self.app.form_saved(self, message.reference)


def _draft_before_sending(journal: DraftJournal, draft: dict[str, Any]) -> None:
    """Before a save is sent, in the save's own worker: the draft on disk carries the key
    the save will use. Written in the thread that clears it once saved, never in one of
    its own: a draft written after that clear (a loaded machine) outlived the incident
    it was saved as, and the next sign-in offered to restore it. A draft not written
    does not stop the save (the form still holds the typing; its timer writes again)."""
    try:
        journal.save(draft)
    except OSError:
        log.warning("could not write the draft before saving", exc_info=True)


def _clear_saved_draft(journal: DraftJournal) -> None:
    """The incident is saved: its draft goes. A draft left behind (a full disk) would only
    offer a restore whose save is idempotent, so a failure here is not the save's."""
    try:
        journal.clear()
    except OSError:
        pass
