"""The frame every full screen shares: environment banner, operator header, footer.

A screen subclasses `FramedScreen` and yields its own widgets from `compose_body`, so
no screen can forget the TRAINING banner.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from controlroom.widgets.environment_banner import EnvironmentBanner
from controlroom.widgets.operator_header import OperatorHeader


class FramedScreen(Screen):
    def compose(self) -> ComposeResult:
        app = self.app
        profile = app.profile
        operator = app.operator
        yield EnvironmentBanner(profile.environment, synthetic=profile.synthetic)
        yield OperatorHeader(
            display_name=operator.display_name,
            role=operator.role.value,
            station=operator.station,
            environment=profile.environment,
            clock=app.clock,
            zone=app.zone,
        )
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()
