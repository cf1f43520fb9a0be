"""The keys' characters and labels of widgets/key_names.py are Textual's own answers,
for every key Control Room binds and every letter, digit and function key."""

from __future__ import annotations

import importlib
import pkgutil
import string

import pytest
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import format_key
from textual.keys import key_to_character as textual_key_to_character

import controlroom.screens
import controlroom.widgets
from controlroom.app import ControlRoomApp
from controlroom.widgets import key_names


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def _bound_keys() -> set[str]:
    """Every key in the BINDINGS of Control Room's app, screens and widgets."""
    for package in (controlroom.screens, controlroom.widgets):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    keys: set[str] = set()
    for node in _subclasses(DOMNode) | {ControlRoomApp}:
        if not node.__module__.startswith("controlroom"):
            continue
        for binding in node.__dict__.get("BINDINGS", []):
            spec = binding.key if isinstance(binding, Binding) else binding[0]
            keys.update(key.strip() for key in spec.split(","))
    return keys


BOUND = sorted(_bound_keys())
PLAIN = sorted(set(string.ascii_letters + string.digits) | {f"f{n}" for n in range(1, 25)}) + [
    "ctrl+a",
    "ctrl+f10",
    "alt+k",
    "shift+f3",
    "ctrl+shift+x",
]


def test_every_bound_key_was_found():
    assert {"f1", "question_mark", "escape", "ctrl+s", "f12", "alt+n"} <= set(BOUND)


@pytest.mark.parametrize("key", BOUND + PLAIN)
def test_a_keys_character_is_textuals(key):
    assert key_names.key_to_character(key) == textual_key_to_character(key)


@pytest.mark.parametrize("key", BOUND + PLAIN)
def test_a_keys_label_is_textuals(key):
    display = key_names.key_display(key)
    textual = App.get_key_display(App(), Binding(key, "noop"))
    assert display in (None, textual)
    if key in PLAIN or key.split("+")[-1] in key_names.NAMED_CHARACTERS:
        assert display == textual  # these never need Textual's search of names


def test_a_key_it_does_not_know_is_textuals_to_answer():
    assert key_names.key_display("dollar_sign") is None
    assert key_names.key_to_character("dollar_sign") == "$"
    assert format_key("dollar_sign") == "$"
