"""The Textual application and `make_app`, the factory the CLI and the tests share.

The app holds what every screen needs — settings, the unit-of-work factory, the
signed-in operator, the database's profile, the clock — and the global keys of
DESIGN.md. It never touches a database session: screens call services from thread
workers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from textual.app import App
from textual.binding import Binding

from controlroom import __version__
from controlroom.commands import ControlRoomCommands
from controlroom.config import Settings
from controlroom.screens.help import HelpScreen, KeyHelp
from controlroom.screens.home_board import HomeBoard
from controlroom.services.database import DatabaseProfile
from controlroom.services.staff import StaffMember

# Terminals with 16 colours and no box-drawing guarantees: use the ansi theme.
ANSI_TERMS = frozenset({"linux", "vt100", "vt102", "vt220", "ansi", "cons25"})
DISPLAY_ZONE = ZoneInfo("Europe/London")


def utc_clock() -> datetime:
    return datetime.now(UTC)


class ControlRoomApp(App[int]):
    """Control Room. Global keys work on every screen; each binding has an id for keymaps."""

    CSS_PATH = "app.tcss"
    TITLE = "Control Room"
    COMMANDS = App.COMMANDS | {ControlRoomCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help",
                tooltip="Keys of this screen"),
        Binding("escape", "back", "Back", id="app.back", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        uow_factory: Callable,
        operator: StaffMember,
        profile: DatabaseProfile,
        *,
        terminal: str = "local",
        term: str | None = None,
        clock: Callable[[], datetime] = utc_clock,
    ) -> None:
        ansi = settings.ansi if settings.ansi is not None else (term or "") in ANSI_TERMS
        super().__init__(ansi_color=ansi or None)
        self.settings = settings
        self.uow_factory = uow_factory
        self.operator = operator
        self.profile = profile
        self.terminal = terminal
        self.clock = clock
        self.zone = DISPLAY_ZONE
        self.use_ansi = ansi
        self.sub_title = f"{operator.display_name} · {profile.environment.value}"
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))

    def on_mount(self) -> None:
        if self.use_ansi:
            self.theme = "ansi-dark"
        self.push_screen(HomeBoard())

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        keys: list[KeyHelp] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            # Only Control Room's own bindings (they all carry ids); Textual's focus and
            # copy keys are not what an operator looks up here.
            if not binding.id or binding.id in seen:
                continue
            seen.add(binding.id)
            keys.append(KeyHelp(
                keys=self.get_key_display(binding),
                description=binding.description or binding.tooltip or binding.action,
                binding_id=binding.id or "",
            ))
        keys.append(KeyHelp("ctrl+p", "Command palette", "app.command_palette"))
        title = type(self.screen).__name__
        self.push_screen(HelpScreen(getattr(self.screen, "TITLE", None) or title, keys))

    def action_home(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()


def make_app(
    settings: Settings,
    uow_factory: Callable,
    operator: StaffMember,
    profile: DatabaseProfile,
    *,
    terminal: str = "local",
    term: str | None = None,
    clock: Callable[[], datetime] = utc_clock,
) -> ControlRoomApp:
    """Build the app around an already-built unit-of-work factory and a signed-in operator."""
    return ControlRoomApp(settings, uow_factory, operator, profile, terminal=terminal,
                          term=term, clock=clock)


__all__ = ["ControlRoomApp", "make_app", "__version__"]
