"""The PostgreSQL password, kept in the operating system's keyring and nowhere else.

The configured database URL carries no password. `controlroom db set-password` stores it
in the keyring under

    service  "controlroom"
    username "<database user>@<host>:<port>/<database>"   e.g. "controlroom_app@db1:5432/cr"

and every command that connects fetches it from there (`connection_url`), just before
the engine is made. With no usable keyring backend the program stops and says how to set
one up: there is no plaintext fallback, and nothing is ever written to a file by us.

The URL with the password in it is handed only to the engine. Everything shown or logged
uses `controlroom.config.mask_url`.
"""

from __future__ import annotations

SERVICE_NAME = "controlroom"
DEFAULT_PORT = 5432

SETUP_HELP = (
    "no keyring backend is available to keep the database password, and Control Room "
    "never keeps it in a file. Set one up for this OS user, then run "
    "`controlroom db set-password`:\n"
    "  - on a desktop session, the Secret Service (GNOME Keyring, KWallet) is found by itself;\n"
    "  - on a server, install a backend (e.g. `pip install keyrings.alt` for an encrypted "
    "file, or a system keyring) and name it in ~/.config/python_keyring/keyringrc.cfg "
    "([backend] default-keyring = ...) or in PYTHON_KEYRING_BACKEND;\n"
    "  - `python -m keyring diagnose` shows what keyring finds."
)


class KeyringUnavailable(RuntimeError):
    """No keyring backend: the message says how to set one up."""


class SecretError(ValueError):
    """The password cannot be stored as asked; the message says why."""


def _parse(url: str):
    from sqlalchemy.engine import make_url

    try:
        return make_url(url)
    except Exception:
        from controlroom.config import mask_url

        raise SecretError(f"not a database URL: {mask_url(url)}") from None


def _is_postgres(parsed) -> bool:
    return parsed.get_backend_name() == "postgresql"


def keyring_username(url: str) -> str:
    """The keyring entry's username for this database: user@host:port/database."""
    parsed = _parse(url)
    return (
        f"{parsed.username or ''}@{parsed.host or 'localhost'}:"
        f"{parsed.port or DEFAULT_PORT}/{parsed.database or ''}"
    )


def keyring_backend():
    """The keyring backend in use, or KeyringUnavailable."""
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise KeyringUnavailable(SETUP_HELP)
    # A chain of backends with none in it answers like the fail backend.
    if type(backend).__name__ == "ChainerBackend" and not getattr(backend, "backends", None):
        raise KeyringUnavailable(SETUP_HELP)
    return backend


def needs_keyring(url: str) -> bool:
    """A PostgreSQL URL without a password: its password (if any) is in the keyring."""
    parsed = _parse(url)
    return _is_postgres(parsed) and parsed.password is None


def check_storable(url: str) -> str:
    """Before asking for a password: the URL is one whose password can be kept (PostgreSQL,
    a user, no password in it) and there is a keyring to keep it in. Returns the entry's
    username; raises SecretError or KeyringUnavailable."""
    _check_url(url)
    keyring_backend()
    return keyring_username(url)


def _check_url(url: str) -> None:
    parsed = _parse(url)
    if not _is_postgres(parsed):
        raise SecretError(
            "only a PostgreSQL database has a password to keep; the embedded SQLite file has none"
        )
    if parsed.password is not None:
        raise SecretError(
            "the database URL carries a password: take it out of the URL "
            "(and the settings file), then store it here"
        )
    if not parsed.username:
        raise SecretError("the database URL names no user: postgresql+psycopg://USER@HOST/DATABASE")


def store_password(url: str, password: str) -> str:
    """Keep `password` for the database of `url` in the keyring; returns the entry's
    username. The URL must be PostgreSQL and carry no password itself."""
    _check_url(url)
    if not password:
        raise SecretError("no password given; nothing stored")
    key = keyring_username(url)
    backend = keyring_backend()
    try:
        backend.set_password(SERVICE_NAME, key, password)
    except Exception as exc:  # the backend's own words, never the password
        raise SecretError(f"the keyring refused to store it: {type(exc).__name__}") from None
    return key


def connection_url(url: str) -> str:
    """The URL to connect with: a PostgreSQL URL without a password gets the one in the
    keyring (if one is stored; trust or peer authentication need none). Stops with
    KeyringUnavailable when there is no keyring to ask. Show or log only `mask_url(url)`."""
    if not needs_keyring(url):
        return url
    backend = keyring_backend()
    try:
        password = backend.get_password(SERVICE_NAME, keyring_username(url))
    except Exception as exc:
        raise KeyringUnavailable(
            f"the keyring could not be read ({type(exc).__name__}); " + SETUP_HELP
        ) from None
    if password is None:
        return url
    return _parse(url).set(password=password).render_as_string(hide_password=False)


ANCHOR_KEY_ENTRY = "audit-anchor"


def anchor_key() -> bytes | None:
    """The key that signs this OS account's audit anchors, made on first use and kept in
    its keyring; None when there is no keyring (the anchor is then unkeyed)."""
    import secrets as random

    try:
        backend = keyring_backend()
        stored = backend.get_password(SERVICE_NAME, ANCHOR_KEY_ENTRY)
        if stored is None:
            stored = random.token_hex(32)
            backend.set_password(SERVICE_NAME, ANCHOR_KEY_ENTRY, stored)
    except Exception:  # noqa: BLE001 - no keyring, or it refused: an unkeyed anchor
        return None
    return bytes.fromhex(stored)
