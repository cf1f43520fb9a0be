"""The environment banner: a full-width line on every screen of a non-production database."""

from __future__ import annotations

from textual.widgets import Static

from controlroom.domain.environment import Environment


class EnvironmentBanner(Static):
    """Says, in words, that this is a TRAINING or TEST database; hidden on production.

    The words carry the meaning; the colour only repeats it, so it reads the same in
    16 colours and on a monochrome terminal.
    """

    DEFAULT_CSS = """
    EnvironmentBanner {
        width: 1fr;
        height: 1;
        content-align: center middle;
        text-style: bold;
        background: $warning;
        color: $text;
        &.-test { background: $secondary; }
        &.-production { display: none; }
        &:ansi {
            background: ansi_yellow;
            color: ansi_black;
            &.-test { background: ansi_cyan; }
        }
    }
    """

    def __init__(self, environment: Environment, *, synthetic: bool = False) -> None:
        words = environment.banner or ""
        if synthetic and environment is not Environment.TRAINING:
            words = f"{words} — synthetic data".strip(" —")
        super().__init__(words, markup=False, classes=f"-{environment.value}")
        self.environment = environment
