"""Settings: defaults < TOML file < CONTROLROOM_* environment < command-line flag, the
[[grades]] override, clear errors that name the file, and password masking.

Every test passes its own `environ`, so neither the real environment nor a config file
in the user's home can leak in.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from controlroom.config import (
    ConfigError,
    Settings,
    data_dir,
    load_settings,
    mask_url,
    sqlite_url,
)
from controlroom.domain.grades import DEFAULT_GRADES, Grade


@pytest.fixture
def environ(tmp_path) -> dict[str, str]:
    """An environment with its own data dir and an empty XDG config home."""
    return {
        "CONTROLROOM_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_put_both_databases_in_the_data_dir(environ, tmp_path):
    settings = load_settings(environ)
    assert settings == Settings(
        database_url=sqlite_url(tmp_path / "data" / "controlroom.sqlite"),
        demo_database_url=sqlite_url(tmp_path / "data" / "demo.sqlite"),
        data_dir=tmp_path / "data",
    )
    assert settings.grades == DEFAULT_GRADES
    assert settings.board_refresh_seconds == 5.0
    assert settings.ansi is None
    assert dict(settings.keymap) == {}


def test_data_dir_is_the_override_or_a_per_user_directory(tmp_path):
    assert data_dir({"CONTROLROOM_DATA_DIR": str(tmp_path)}) == tmp_path
    default = data_dir({})
    assert default.name == "controlroom"
    assert default.is_absolute()


TOML = """
database_url = "postgresql+psycopg://toml@db.example/cr"
demo_database_url = "sqlite+pysqlite:////srv/demo-from-toml.sqlite"
board_refresh_seconds = 7
ansi = true

[keymap]
"app.help" = "f1,question_mark"
"""


@pytest.mark.parametrize("where", ["xdg", "CONTROLROOM_CONFIG", "flag"])
def test_the_toml_file_overrides_the_defaults(environ, tmp_path, where):
    if where == "xdg":
        write_config(tmp_path / "xdg" / "controlroom" / "config.toml", TOML)
        settings = load_settings(environ)
    elif where == "CONTROLROOM_CONFIG":
        path = write_config(tmp_path / "elsewhere.toml", TOML)
        settings = load_settings({**environ, "CONTROLROOM_CONFIG": str(path)})
    else:
        settings = load_settings(environ, config_path=write_config(tmp_path / "flag.toml", TOML))
    assert settings.database_url == "postgresql+psycopg://toml@db.example/cr"
    assert settings.demo_database_url == "sqlite+pysqlite:////srv/demo-from-toml.sqlite"
    assert settings.board_refresh_seconds == 7.0
    assert settings.ansi is True
    assert dict(settings.keymap) == {"app.help": "f1,question_mark"}


def test_config_flag_wins_over_controlroom_config(environ, tmp_path):
    from_env = write_config(tmp_path / "env.toml", 'database_url = "sqlite+pysqlite:////env"\n')
    from_flag = write_config(tmp_path / "flag.toml", 'database_url = "sqlite+pysqlite:////flag"\n')
    settings = load_settings(
        {**environ, "CONTROLROOM_CONFIG": str(from_env)}, config_path=from_flag
    )
    assert settings.database_url == "sqlite+pysqlite:////flag"


def test_environment_overrides_the_file_and_the_flag_overrides_both(environ, tmp_path):
    write_config(tmp_path / "xdg" / "controlroom" / "config.toml", TOML)
    environ |= {
        "CONTROLROOM_DATABASE_URL": "postgresql+psycopg://env@db.example/cr",
        "CONTROLROOM_DEMO_DATABASE_URL": "sqlite+pysqlite:////srv/demo-from-env.sqlite",
        "CONTROLROOM_BOARD_REFRESH_SECONDS": "2.5",
        "CONTROLROOM_ANSI": "0",
    }
    settings = load_settings(environ)
    assert settings.database_url == "postgresql+psycopg://env@db.example/cr"
    assert settings.demo_database_url == "sqlite+pysqlite:////srv/demo-from-env.sqlite"
    assert settings.board_refresh_seconds == 2.5
    assert settings.ansi is False
    assert dict(settings.keymap) == {"app.help": "f1,question_mark"}  # only the file sets it

    flagged = load_settings(environ, database_url="postgresql+psycopg://flag@db.example/cr")
    assert flagged.database_url == "postgresql+psycopg://flag@db.example/cr"
    assert flagged.demo_database_url == settings.demo_database_url


@pytest.mark.parametrize(
    ("value", "ansi"), [("1", True), ("true", True), ("YES", True), ("0", False), ("no", False)]
)
def test_controlroom_ansi_reads_common_spellings(environ, value, ansi):
    assert load_settings({**environ, "CONTROLROOM_ANSI": value}).ansi is ansi


def test_empty_environment_variables_do_not_override(environ, tmp_path):
    write_config(tmp_path / "xdg" / "controlroom" / "config.toml", TOML)
    settings = load_settings({**environ, "CONTROLROOM_DATABASE_URL": "", "CONTROLROOM_ANSI": ""})
    assert settings.database_url == "postgresql+psycopg://toml@db.example/cr"
    assert settings.ansi is True


def test_grades_from_the_file_replace_the_national_four(environ, tmp_path):
    path = write_config(
        tmp_path / "grades.toml",
        """
[[grades]]
code = "E"
name = "Emergency"
target_minutes = 10
rural_target_minutes = 18

[[grades]]
code = "S"
name = "Scheduled"
target_minutes = 2880

[[grades]]
code = "R"
name = "Resolved by phone"
""",
    )
    settings = load_settings(environ, config_path=path)
    assert settings.grades == (
        Grade("E", "Emergency", timedelta(minutes=10), timedelta(minutes=18)),
        Grade("S", "Scheduled", timedelta(hours=48)),
        Grade("R", "Resolved by phone", None),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("grades = []\n", "non-empty list"),
        ('grades = "G1"\n', "non-empty list"),
        ('[[grades]]\ncode = "G1"\n', "bad \\[\\[grades\\]\\] entry"),
        (
            '[[grades]]\ncode = "G1"\nname = "x"\ntarget_minutes = "soon"\n',
            "bad \\[\\[grades\\]\\]",
        ),
    ],
)
def test_a_bad_grades_table_is_refused(environ, tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ, config_path=write_config(tmp_path / "bad.toml", text))


def test_bad_toml_is_refused_naming_the_file(environ, tmp_path):
    path = write_config(tmp_path / "broken config.toml", "database_url = \n[grades\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(environ, config_path=path)
    assert str(path) in str(refused.value)


def test_a_file_that_is_not_utf8_is_refused_naming_the_file(environ, tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'force_name = "Caf\xe9"\n')
    with pytest.raises(ConfigError, match="latin1.toml"):
        load_settings(environ, config_path=path)


@pytest.mark.parametrize("how", ["flag", "CONTROLROOM_CONFIG"])
def test_a_named_config_file_that_does_not_exist_is_refused(environ, tmp_path, how):
    missing = tmp_path / "typo.toml"
    with pytest.raises(ConfigError, match="typo.toml: no such configuration file"):
        if how == "flag":
            load_settings(environ, config_path=missing)
        else:
            load_settings({**environ, "CONTROLROOM_CONFIG": str(missing)})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('board_refresh_seconds = "often"\n', "board_refresh_seconds must be a number"),
        ('ansi = "false"\n', "ansi must be true or false"),
    ],
)
def test_a_value_of_the_wrong_type_in_the_file_is_refused_naming_the_file(
    environ, tmp_path, text, message
):
    path = write_config(tmp_path / "typed.toml", text)
    with pytest.raises(ConfigError, match=message) as refused:
        load_settings(environ, config_path=path)
    assert str(path) in str(refused.value)


def test_a_bad_refresh_interval_in_the_environment_is_named(environ):
    with pytest.raises(ConfigError, match="CONTROLROOM_BOARD_REFRESH_SECONDS"):
        load_settings({**environ, "CONTROLROOM_BOARD_REFRESH_SECONDS": "soon"})


def test_with_database_changes_only_the_database(environ):
    settings = load_settings(environ)
    moved = settings.with_database("sqlite+pysqlite:////elsewhere.sqlite")
    assert moved.database_url == "sqlite+pysqlite:////elsewhere.sqlite"
    assert moved.demo_database_url == settings.demo_database_url
    assert moved.grades == settings.grades


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://app:s3cret@db.example:5432/cr",
            "postgresql+psycopg://app:***@db.example:5432/cr",
        ),
        (
            "postgresql+psycopg://app:s3cr%40t@db.example/cr",
            "postgresql+psycopg://app:***@db.example/cr",
        ),
        ("postgresql+psycopg://app@db.example/cr", "postgresql+psycopg://app@db.example/cr"),
        (
            "sqlite+pysqlite:////var/lib/controlroom/cr.sqlite",
            "sqlite+pysqlite:////var/lib/controlroom/cr.sqlite",
        ),
        # Unparseable, or mangled by an unencoded "@": only the scheme is shown.
        ("postgresql://app:s3cret@db.example:port/cr", "postgresql:***"),
        ("postgresql://app:s3c@ret@db.example/cr", "postgresql:***"),
        ("app:s3cret@db.example/cr", "app:***"),
    ],
)
def test_mask_url_hides_passwords(url, shown):
    assert mask_url(url) == shown
    assert "s3cr" not in mask_url(url)


def test_the_duplicate_call_window_is_configured(environ, tmp_path):
    default = load_settings(environ)
    assert (default.duplicate_radius_m, default.duplicate_window_minutes) == (200.0, 60.0)
    path = write_config(
        tmp_path / "c.toml", "duplicate_radius_m = 500\nduplicate_window_minutes = 15\n"
    )
    configured = load_settings(environ, config_path=path)
    assert (configured.duplicate_radius_m, configured.duplicate_window_minutes) == (500.0, 15.0)


@pytest.mark.parametrize(
    "text", ["duplicate_radius_m = 'near'\n", "duplicate_window_minutes = 0\n"]
)
def test_a_bad_duplicate_window_is_refused(environ, tmp_path, text):
    with pytest.raises(ConfigError, match="duplicate_"):
        load_settings(environ, config_path=write_config(tmp_path / "c.toml", text))
