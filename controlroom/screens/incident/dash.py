"""DASH screen: the 27-question domestic-abuse risk assessment of one incident, by keys.

The questions are listed by number with our own short labels (the official wording is
licensed: the assessor works from the form). The cursor row is marked "▶"; one key
answers it and moves on: y yes, n no, k not known. Up/Down (and Home/End, PgUp/PgDn)
move without answering. The score (number of yes) and the level (STANDARD / MEDIUM /
HIGH, said in words and symbols, never colour alone) update at every key.

j raises the level by professional judgement (each press offers the next higher level,
then none); a raise needs a written reason, asked for at its field. Judgement never
lowers: when the answers reach the raised level, the raise is dropped and the screen
says so. ctrl+s (F10) saves a complete assessment; the save supersedes the previous one
(kept as history) and raises the referrals its triggers call for; the screen then
closes and says what was saved. Esc goes back, asking first if anything changed.

A re-assessment starts from the answers in force. Everything reaches the screen as
Content built from our own words; record text (the reference, names) goes through
`record_content`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static

from controlroom.domain.dash import (
    QUESTION_COUNT,
    QUESTIONS,
    Answer,
    RiskLevel,
    higher_levels,
    level_for_score,
    score,
)
from controlroom.domain.dash import REASON_MIN as JUDGEMENT_REASON_MIN
from controlroom.domain.queues import RiskLevel as QueueRisk
from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.record_text import record_content

if TYPE_CHECKING:
    from controlroom.services.dash import DashSaved, DashView

ANSWER_WORDS = {Answer.YES: "YES", Answer.NO: "no", Answer.NOT_KNOWN: "not known"}
# A DASH level in the words and symbols the queue shows for the same risk ("HIGH ▲▲▲").
LEVEL_WORDS = {level: QueueRisk[level.name].words for level in RiskLevel}
LABEL_WIDTH = 36


def question_line(number: int, answer: Answer | None, current: bool) -> Content:
    """ " ▶ 1  Injury in this incident                 YES" (the cursor mark, the number,
    our label and the answer in words; unanswered reads "—")."""
    mark = "▶" if current else " "
    words = ANSWER_WORDS[answer] if answer is not None else "—"
    line = Content(f"{mark}{number:>3}  {QUESTIONS[number]:<{LABEL_WIDTH}}  ")
    return line + (Content(words).stylize("bold") if answer is Answer.YES else Content(words))


def level_words(level: RiskLevel) -> str:
    return LEVEL_WORDS[level]


class DashScreen(FramedScreen["str | None"]):
    """DASH for one incident; dismisses with what was saved (words) or None."""

    TITLE = "DASH"
    AUTO_FOCUS = "#dash-questions"

    BINDINGS = [
        Binding("y", "answer('Y')", "Yes", id="dash.yes", tooltip="Answer yes and move on"),
        Binding("n", "answer('N')", "No", id="dash.no", tooltip="Answer no and move on"),
        Binding(
            "k",
            "answer('K')",
            "Not known",
            id="dash.not_known",
            tooltip="Answer not known and move on",
        ),
        Binding(
            "j",
            "judgement",
            "Raise level",
            id="dash.judgement",
            tooltip="Raise the level by professional judgement (a reason is required)",
        ),
        Binding("ctrl+s,f10", "save", "Save", id="dash.save", priority=True),
        Binding("escape", "back", "Back", id="dash.back"),
    ]

    @dataclass
    class Loaded(Message):
        """The incident's DASH as it stands (the last one saved, if any)."""

        view: DashView

    @dataclass
    class Saved(Message):
        """The DASH was saved, with any referral it raised."""

        saved: DashSaved

    class LoadFailed(CallFailed):
        """The DASH could not be read."""

    class SaveFailed(CallFailed):
        """The DASH was not saved; the answers stay on screen."""

    def __init__(self, incident_id: int, reference: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.reference = reference
        self.answers: dict[int, Answer] = {}
        self.judgement: RiskLevel | None = None
        self._initial: tuple = ({}, None, "")
        self._marked = 1  # the question drawn with the cursor mark
        self._saving = False

    # --- layout ------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Vertical(id="dash"):
            yield Static(
                Content("DASH risk assessment — ").stylize("bold")
                + record_content(self.reference, style="bold"),
                id="dash-title",
            )
            yield Static("Reading the assessment…", id="dash-previous", markup=False)
            yield Static("", id="dash-score", markup=False)
            yield Static("", id="dash-error", classes="field-error", markup=False)
            yield OptionList(
                *(question_line(n, None, n == 1) for n in QUESTIONS), id="dash-questions"
            )
            yield Static("", id="dash-judgement", markup=False)
            with Horizontal(id="judgement-row"):
                yield Label("Reason", classes="dash-label")
                yield Input(
                    placeholder="why the level is raised (required)",
                    id="judgement-reason",
                    max_length=2000,
                )
            yield Static("", id="judgement_reason-error", classes="field-error", markup=False)
            yield Static(
                "y yes · n no · k not known · ↑↓ move · j raise level · ctrl+s save · Esc back",
                id="dash-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#judgement-row").display = False
        self.query_one("#dash-questions", OptionList).highlighted = 0
        self._refresh_score()
        self.load_dash()

    # --- reading -----------------------------------------------------------------------

    def load_dash(self) -> None:
        from controlroom.services import dash

        uow_factory, actor, incident_id = self.app.uow_factory, self.app.actor, self.incident_id
        self.run_service(
            lambda: dash.dash_for_incident(uow_factory(), actor, incident_id),
            self.Loaded,
            doing="read the DASH",
            group="dash-read",
            failed=self.LoadFailed,
        )

    @on(LoadFailed)
    def load_failed(self, message: LoadFailed) -> None:
        message.stop()
        self._error(None, f"{message.failure.sentence} Esc goes back.")

    @on(Loaded)
    def dash_loaded(self, message: Loaded) -> None:
        view = message.view
        previous = self.query_one("#dash-previous", Static)
        if view.current is not None:
            current = view.current
            # Keys pressed while the read was on the way win over the stored answers.
            self.answers = {**current.answers, **self.answers}
            when = current.assessed_at.astimezone(self.app.zone)
            earlier = len(view.history) - 1
            previous.update(
                Content(f"Starting from the DASH of {when:%d/%m %H:%M} by ")
                + record_content(current.assessed_by)
                + Content(
                    f": {current.level.label}, score {current.score}"
                    + (f" ({earlier} earlier)" if earlier else "")
                )
            )
        else:
            previous.update(Content("No DASH yet for this incident."))
        if not view.domestic:
            self._error(
                None,
                "This incident is not flagged domestic: DASH is for domestic "
                "abuse. Esc, then a to reassess the flags.",
            )
        self._initial = (dict(view.current.answers) if view.current else {}, None, "")
        self._redraw_all()
        self._refresh_score()

    # --- answering ---------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """The question number under the cursor (1-27)."""
        highlighted = self.query_one("#dash-questions", OptionList).highlighted
        return (highlighted or 0) + 1

    def action_answer(self, value: str) -> None:
        number = self.cursor
        self.answers[number] = Answer(value)
        self._clear("dash")
        questions = self.query_one("#dash-questions", OptionList)
        if number < QUESTION_COUNT:
            questions.highlighted = number  # the next question (0-based index)
        self._redraw(number, self._marked)
        self._refresh_score()

    @on(OptionList.OptionHighlighted, "#dash-questions")
    def moved(self) -> None:
        self._redraw(self._marked)

    @on(OptionList.OptionSelected, "#dash-questions")
    def selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # Enter does not answer: y, n or k does

    def _redraw(self, *numbers: int) -> None:
        """Draw these questions and the cursor's again (only the rows that changed, so a
        key press stays cheap)."""
        questions = self.query_one("#dash-questions", OptionList)
        cursor = self.cursor
        for number in {*numbers, cursor}:
            questions.replace_option_prompt_at_index(
                number - 1, question_line(number, self.answers.get(number), number == cursor)
            )
        self._marked = cursor

    def _redraw_all(self) -> None:
        self._redraw(*QUESTIONS)

    def _refresh_score(self) -> None:
        value = score(self.answers)
        scored = level_for_score(value)
        dropped = self.judgement is not None and self.judgement.rank <= scored.rank
        if dropped:
            self.judgement = None
            self._show_reason(False)
        answered = len(self.answers)
        line = (
            Content(f"Score {value} of {QUESTION_COUNT} yes · ")
            + Content(level_words(scored)).stylize("bold")
            + Content(f" · answered {answered} of {QUESTION_COUNT}")
        )
        score_widget = self.query_one("#dash-score", Static)
        score_widget.update(line)
        score_widget.set_class(scored is RiskLevel.HIGH, "-high")
        judgement = self.query_one("#dash-judgement", Static)
        if self.judgement is not None:
            judgement.update(
                Content("Judgement: raised to ")
                + Content(level_words(self.judgement)).stylize("bold")
                + Content(f" (answers give {scored.label}) · j changes")
            )
        elif dropped:
            judgement.update(Content(f"Judgement dropped: the answers now give {scored.label}"))
        elif higher_levels(scored):
            judgement.update(Content("Judgement: none · j raises the level"))
        else:
            judgement.update(Content("Judgement: none (HIGH is the top level)"))

    def action_judgement(self) -> None:
        scored = level_for_score(score(self.answers))
        choices: list[RiskLevel | None] = [*higher_levels(scored), None]
        if len(choices) == 1:
            self._error(
                None,
                "The answers already give HIGH: judgement cannot raise it "
                "further, and never lowers it.",
            )
            self.judgement = None
        else:
            now = choices.index(self.judgement) if self.judgement in choices else -1
            self.judgement = choices[(now + 1) % len(choices)]
        self._show_reason(self.judgement is not None)
        self._refresh_score()
        if self.judgement is not None:
            self.focus_now(self.query_one("#judgement-reason", Input))

    def _show_reason(self, shown: bool) -> None:
        self.query_one("#judgement-row").display = shown
        if not shown:
            self._clear("judgement_reason")
            if self.query_one("#judgement-reason", Input).has_focus:
                self.focus_now(self.query_one("#dash-questions"))

    @on(Input.Submitted, "#judgement-reason")
    def reason_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_now(self.query_one("#dash-questions"))  # Enter goes back to the questions

    @on(Input.Changed, "#judgement-reason")
    def reason_typed(self) -> None:
        self._clear("judgement_reason")

    # --- saving ------------------------------------------------------------------------

    def _reason(self) -> str:
        return self.query_one("#judgement-reason", Input).value

    def action_save(self) -> None:
        if self._saving:
            return
        self._clear("dash")
        self._clear("judgement_reason")
        missing = [n for n in QUESTIONS if n not in self.answers]
        if missing:
            self._error(
                None,
                f"Question {missing[0]} is not answered ({len(missing)} left): y, n or k for each.",
            )
            self.query_one("#dash-questions", OptionList).highlighted = missing[0] - 1
            self.focus_now(self.query_one("#dash-questions"))
            return
        reason = self._reason().strip()
        if self.judgement is not None and len(reason) < JUDGEMENT_REASON_MIN:
            self._error(
                "judgement_reason",
                "raising the level needs a written reason"
                if not reason
                else f"write the reason out: at least {JUDGEMENT_REASON_MIN} characters",
            )
            self.focus_now(self.query_one("#judgement-reason"))
            return
        self._saving = True
        self.save_dash(
            dict(self.answers), self.judgement, reason if self.judgement is not None else None
        )

    def save_dash(
        self, answers: dict[int, Answer], judgement: RiskLevel | None, reason: str | None
    ) -> None:
        from controlroom.services import dash

        app = self.app
        uow_factory, actor, clock, incident_id = (
            app.uow_factory,
            app.actor,
            app.clock,
            self.incident_id,
        )
        self.run_service(
            lambda: dash.record_dash(
                uow_factory(),
                actor,
                incident_id,
                answers,
                clock(),
                judgement_level=judgement,
                judgement_reason=reason,
            ),
            self.Saved,
            doing="save the DASH",
            group="dash-save",
            failed=self.SaveFailed,
        )

    @on(Saved)
    def dash_saved(self, message: Saved) -> None:
        self._saving = False
        saved = message.saved
        words = (
            f"DASH saved: {saved.assessment.level.label}, score "
            f"{saved.assessment.score} of {QUESTION_COUNT}."
        )
        if saved.referrals:
            words += " Referral created: " + ", ".join(r.kind_label for r in saved.referrals)
            words += " (m marks it sent)."
        self.dismiss(words)

    @on(SaveFailed)
    def save_failed(self, message: SaveFailed) -> None:
        message.stop()
        self._saving = False
        failure = message.failure
        field = failure.field if failure.field == "judgement_reason" else None
        self._error(field, failure.save_words("Your answers are kept."))

    # --- messages and leaving ----------------------------------------------------------

    def _error(self, field: str | None, message: str) -> None:
        widget = self.query_one(f"#{field}-error" if field else "#dash-error", Static)
        widget.update(record_content(message))
        widget.add_class("-shown")

    def _clear(self, field: str) -> None:
        for widget in self.query(f"#{field}-error").results(Static):
            widget.update("")
            widget.remove_class("-shown")

    def is_dirty(self) -> bool:
        return (dict(self.answers), self.judgement, self._reason().strip()) != (
            self._initial[0],
            self._initial[1],
            self._initial[2],
        )

    def action_back(self) -> None:
        if not self.is_dirty():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                "Discard this DASH?",
                "y throws the answers away and goes back; n returns to them with everything kept.",
            ),
            answered,
        )
