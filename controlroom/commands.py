"""The command palette provider (ctrl+p): the app's actions, by name, for the current screen.

Only actions that exist are offered; screens that later work adds register here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from controlroom.app import ControlRoomApp

log = logging.getLogger("controlroom.commands")


class ControlRoomCommands(Provider):
    """Offers the app's commands, plus the current screen's own actions."""

    @property
    def control_room(self) -> ControlRoomApp:
        """The app, typed (a Provider is not a message pump: Textual's getters do not apply)."""
        return cast("ControlRoomApp", self.app)

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app = self.control_room
        if app.operator is None:  # still signing in: nothing to offer but quitting
            return [("Quit Control Room", "Close", app.action_quit)]
        commands: list[tuple[str, str, Callable[[], Any]]] = [
            ("Help: keys on this screen", "List the keys of the current screen", app.action_help),
            ("Home board", "Open incidents by grade, status and heading", app.action_home),
            ("New incident", "Record a call: F2 or ctrl+n", app.action_new_incident),
            ("Person search", "Find a person: F3 or ctrl+f", app.action_person_search),
            (
                "Intelligence search",
                "Search and submit intelligence: F4 or ctrl+g",
                app.action_intelligence,
            ),
            ("Triage queue", "Items waiting for a decision: F5 or ctrl+t", app.action_triage_queue),
            (
                "Incident list",
                "Open incidents, every station, oldest first: F7",
                app.action_incident_list,
            ),
            (
                "Resource board",
                "Every unit, its status and incident; the dispatch command line: F8 or ctrl+b",
                app.action_resource_board,
            ),
            (
                "Open incident by reference",
                "Its reference or last digits: ctrl+o (or type them here)",
                app.action_open_by_reference,
            ),
            (
                "Crime recording",
                "Possible crimes by NCRS time left, breaches first: F9",
                app.action_crime_queue,
            ),
            (
                "Crime data integrity",
                "Analysts, supervisors: crimes recorded within 24h, by month and station: F11",
                app.action_crime_integrity,
            ),
            (
                "Crime statistics",
                "Analysts, supervisors: recorded crime, outcomes, integrity, referrals: F12",
                app.action_crime_statistics,
            ),
            (
                "Command view",
                "Supervisors: queues, DASH, referrals, overrides: F6",
                app.action_command_view,
            ),
            (
                "Kept offline: to resolve",
                "Supervisors: calls and changes stations kept offline that did not simply go in",
                app.action_kept_offline,
            ),
            (
                "Legacy review list",
                "Supervisors: people an import held back as probably someone here: merge or"
                " keep apart",
                app.action_legacy_review,
            ),
            ("Quit Control Room", "Sign out and close", app.action_quit),
        ]
        screen = self.screen
        refresh = getattr(screen, "action_refresh_board", None)
        if refresh is not None:
            commands.append(("Refresh board now", "Read the counts from the database", refresh))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, partial(self._run, callback), help=help_text)

    async def search(self, query: str) -> Hits:
        async for hit in self._incidents(query):
            yield hit
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(name), partial(self._run, callback), help=help_text
                )

    async def _incidents(self, query: str) -> Hits:
        """Incidents whose reference the query is, or ends with ("0042", "cr-2026…"):
        looked up (off the event loop) once the query holds a digit."""
        import asyncio

        app = self.control_room
        typed = query.strip()
        if app.operator is None or not any(c.isdigit() for c in typed):
            return
        from controlroom.services import incidents

        try:
            found = await asyncio.to_thread(
                incidents.find_references, app.uow_factory(), app.actor, typed
            )
        except Exception:  # noqa: BLE001 - the palette offers nothing; the log has it
            log.exception("the palette could not look a reference up")
            return
        for incident in found:
            # Record text as a Text, never in the help line (Textual reads that as markup).
            label = Text(
                f"Open {incident.reference} · {incident.type_label} · {incident.location_text}",
                no_wrap=True,
                overflow="ellipsis",
            )
            yield Hit(
                100.0,
                label,
                partial(self._run, partial(app.open_incident, incident.reference)),
                text=incident.reference,
                help=f"{incident.grade} · {incident.status.replace('_', ' ')}",
            )

    async def _run(self, callback: Callable[[], Any]) -> None:
        result = callback()
        if hasattr(result, "__await__"):
            await result
