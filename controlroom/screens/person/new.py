"""Creating a person to link to a call, with a possible-duplicate check first.

One record per person: before a new person is created the service looks for people
who may be the same (same name with the same or day/month-swapped date of birth). If
there are any, they are listed: Enter links the existing one, ctrl+s again creates the
new record anyway (the operator has looked and decided).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from controlroom.screens.seam import AppModal, CallFailed
from controlroom.widgets.lookup_input import LookupInput, MatchList
from controlroom.widgets.record_text import record_content, record_value

if TYPE_CHECKING:
    from controlroom.services.persons import PersonSummary


def parse_date_of_birth(text: str, today: date) -> date | None:
    """DD/MM/YYYY or YYYY-MM-DD; empty is "unknown" (None); anything else is ValueError."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            born = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if born > today:
            raise ValueError("date of birth is in the future")
        return born
    raise ValueError("date of birth: use DD/MM/YYYY, e.g. 02/03/1984 (or leave it empty)")


class NewPersonScreen(AppModal["PersonSummary | None"]):
    """Dismisses with the PersonSummary to link (new or existing), or None."""

    BINDINGS = [
        Binding("ctrl+s,f10", "create", "Create", id="person_new.create", priority=True),
        Binding("escape", "cancel", "Cancel", id="person_new.cancel"),
    ]

    @dataclass
    class Created(Message):
        """The person was created (or, after the check, confirmed new and created)."""

        person: PersonSummary

    class CreateFailed(CallFailed):
        """Not created: a field, possible duplicates to look at first, or a fault."""

    def __init__(self, query: str = "") -> None:
        super().__init__()
        words = query.split()
        self._forename = words[0] if len(words) > 1 else ""
        self._surname = " ".join(words[1:]) if len(words) > 1 else query
        self.candidates: list[PersonSummary] = []
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="person-new-panel"):
            yield Static("New person", classes="panel-title", markup=False)
            for field_id, label in (
                ("forename", "Forename"),
                ("surname", "Surname"),
                ("date_of_birth", "Born"),
                ("gender", "Gender"),
            ):
                with Horizontal(classes="row"):
                    yield Label(label, classes="field-label")
                    if field_id == "surname":
                        yield LookupInput(id=field_id, max_length=80)
                    else:
                        yield Input(
                            id=field_id,
                            max_length=80,
                            placeholder="DD/MM/YYYY" if field_id == "date_of_birth" else "",
                        )
                yield Static("", id=f"{field_id}-error", classes="field-error", markup=False)
            yield Static("", id="person-new-duplicates-title", markup=False)
            yield MatchList(id="person-new-duplicates")
            yield Static("ctrl+s create · Esc cancel", classes="field-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#forename", Input).value = record_value(self._forename)
        self.query_one("#surname", Input).value = record_value(self._surname)
        self.focus_now(self.query_one("#forename", Input))

    @on(LookupInput.Moved)
    def move(self, event: LookupInput.Moved) -> None:
        self.query_one("#person-new-duplicates", MatchList).move(event.delta)

    @on(Input.Submitted)
    def enter(self, event: Input.Submitted) -> None:
        matches = self.query_one("#person-new-duplicates", MatchList)
        if self.candidates and matches.highlighted is not None:
            self.dismiss(self.candidates[matches.highlighted])  # the existing person
            return
        self.focus_next()

    def _errors_clear(self) -> None:
        for widget in self.query(".field-error").results(Static):
            widget.update("")
            widget.remove_class("-shown")

    def _error(self, field: str, message: str) -> None:
        widget = self.query_one(f"#{field}-error", Static)
        widget.update(record_content(message))
        widget.add_class("-shown")
        self.focus_now(self.query_one(f"#{field}"))

    def action_create(self) -> None:
        if self._busy:
            return
        self._errors_clear()
        try:
            born = parse_date_of_birth(
                self.query_one("#date_of_birth", Input).value, self.app.local_today()
            )
        except ValueError as exc:
            self._error("date_of_birth", str(exc))
            return
        self._busy = True
        self.create(
            self.query_one("#forename", Input).value,
            self.query_one("#surname", Input).value,
            born,
            self.query_one("#gender", Input).value.strip() or None,
            confirmed_new=bool(self.candidates),
        )

    def create(
        self,
        forename: str,
        surname: str,
        born: date | None,
        gender: str | None,
        *,
        confirmed_new: bool,
    ) -> None:
        from controlroom.services import persons

        uow_factory, actor, today = self.app.uow_factory, self.app.actor, self.app.local_today
        self.run_service(
            lambda: persons.create_person(
                uow_factory(),
                actor,
                forename=forename,
                surname=surname,
                date_of_birth=born,
                gender=gender,
                today=today(),
                confirmed_new=confirmed_new,
            ),
            self.Created,
            doing="create the person",
            group="person-create",
            failed=self.CreateFailed,
        )

    @on(Created)
    def created(self, message: Created) -> None:
        self._busy = False
        self.dismiss(message.person)

    @on(CreateFailed)
    def create_failed(self, message: CreateFailed) -> None:
        from controlroom.services.persons import PossibleDuplicate

        message.stop()
        self._busy = False
        failure = message.failure
        if isinstance(failure.error, PossibleDuplicate):
            self.candidates = list(failure.error.candidates)
            self.query_one("#person-new-duplicates-title", Static).update(
                "POSSIBLY ALREADY KNOWN — Enter links the highlighted person; "
                "ctrl+s creates a new record anyway"
            )
            self.query_one("#person-new-duplicates", MatchList).show(
                [
                    record_content(
                        f"{p.surname.upper()}, {p.forename}  "
                        f"{p.date_of_birth or 'DOB unknown'}  {p.address or ''}"
                    )
                    for p in self.candidates
                ]
            )
            self.focus_now(self.query_one("#surname", Input))
            return
        field = (
            failure.field
            if failure.field in {"forename", "surname", "date_of_birth", "gender"}
            else "surname"
        )
        self._error(
            field, failure.sentence if failure.field else f"not created — {failure.sentence}"
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
