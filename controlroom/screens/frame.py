"""The frame every full screen shares: environment banner, operator header, the database
banner (shown only while the database cannot be used), footer.

A screen subclasses `FramedScreen` and yields its own widgets from `compose_body`, so
no screen can forget the TRAINING banner. `FramedScreen` is an `AppScreen`: the typed app
and `run_service` come with it (`screens/seam.py`).
"""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult

from controlroom.screens.seam import AppScreen
from controlroom.widgets.database_banner import DatabaseBanner
from controlroom.widgets.environment_banner import EnvironmentBanner
from controlroom.widgets.key_footer import KeyFooter
from controlroom.widgets.operator_header import OperatorHeader

ScreenResultT = TypeVar("ScreenResultT")


class FramedScreen(AppScreen[ScreenResultT]):
    def compose(self) -> ComposeResult:
        app = self.app
        profile = app.database_profile
        operator = app.signed_in
        yield EnvironmentBanner(profile.environment, synthetic=profile.synthetic)
        yield OperatorHeader(
            display_name=operator.display_name,
            role=operator.role.value,
            station=operator.station,
            environment=profile.environment,
            clock=app.clock,
            zone=app.zone,
        )
        yield DatabaseBanner(app.zone)
        yield from self.compose_body()
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()
