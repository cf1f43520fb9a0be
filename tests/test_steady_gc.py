"""The garbage collector settled once a session is open (issue 20): `controlroom` asks for
it, the tests' apps do not, and what it does to the collector."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from controlroom.app import GC_YOUNG_THRESHOLD, steady_collector
from controlroom.cli.app import _build_app
from controlroom.config import load_settings


def test_steady_collector_freezes_start_up_and_collects_young_objects_less_often():
    before = gc.get_threshold()
    gc.unfreeze()  # what the suite froze after the tests before (tests/conftest.py)
    assert gc.get_freeze_count() == 0
    try:
        steady_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_program_settles_the_collector_and_a_test_app_does_not(tmp_path):
    from controlroom.app import make_app

    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    )
    database = SimpleNamespace(uow=lambda: None)
    assert _build_app(settings, database, "someone").steady_gc is True
    assert make_app(settings, database.uow, "someone").steady_gc is False
