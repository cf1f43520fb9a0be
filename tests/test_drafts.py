"""The per-operator draft journal: private file modes, atomic replacement, a damaged
draft moved aside (never a crash), and user names that cannot escape the directory."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from controlroom.data import drafts as draft_storage
from controlroom.services.drafts import DraftJournal, draft_journal

FORM = {
    "idempotency_key": "0f3c9a",
    "caller_name": "[bold]Pat[/] \u202e Zoë",
    "narrative": "line one\nline two\t\x1b[2J",
    "persons": [[12, "victim"]],
    "weapons": True,
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def journal(tmp_path) -> DraftJournal:
    return draft_journal(tmp_path / "data", "call.handler")


def test_a_draft_round_trips_exactly(journal, tmp_path):
    assert journal.load() is None
    journal.save(FORM)
    assert journal.path == tmp_path / "data" / "drafts" / "call.handler.json"
    assert journal.load() == FORM


def test_the_directory_is_0700_and_the_file_0600_whatever_the_umask(journal):
    old = os.umask(0o000)  # the most permissive umask: the journal must not rely on it
    try:
        journal.save(FORM)
    finally:
        os.umask(old)
    assert mode(journal.path.parent) == 0o700
    assert mode(journal.path) == 0o600


def test_an_existing_open_directory_is_made_private(tmp_path):
    (tmp_path / "drafts").mkdir(mode=0o755)
    os.chmod(tmp_path / "drafts", 0o755)
    journal = DraftJournal(tmp_path, "op")
    journal.save({"a": 1})
    assert mode(tmp_path / "drafts") == 0o700


def test_a_save_replaces_the_file_atomically(journal, monkeypatch):
    journal.save({"version": 1})
    inode = journal.path.stat().st_ino
    replaced = []
    real_replace = os.replace

    def watching_replace(source, target):
        # At the moment of the rename the new content is complete and private, and the
        # old draft is still whole under the real name.
        assert json.loads(Path(source).read_text(encoding="utf-8")) == {"version": 2}
        assert mode(Path(source)) == 0o600
        assert json.loads(Path(target).read_text(encoding="utf-8")) == {"version": 1}
        replaced.append((Path(source).parent, Path(target)))
        return real_replace(source, target)

    monkeypatch.setattr(draft_storage.os, "replace", watching_replace)
    journal.save({"version": 2})
    assert replaced == [(journal.path.parent, journal.path)]
    assert journal.path.stat().st_ino != inode  # a new file, not the old one rewritten
    assert journal.load() == {"version": 2}
    assert [p.name for p in journal.path.parent.iterdir()] == ["call.handler.json"]


def test_a_failed_save_keeps_the_old_draft_and_leaves_no_temporary_file(journal, monkeypatch):
    journal.save({"version": 1})

    def disk_full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(draft_storage.os, "write", disk_full)
    with pytest.raises(OSError):
        journal.save({"version": 2})
    monkeypatch.undo()
    assert journal.load() == {"version": 1}
    assert [p.name for p in journal.path.parent.iterdir()] == ["call.handler.json"]


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe\x00", b"[1, 2]", b'"text"'])
def test_a_damaged_draft_is_moved_aside_and_the_form_starts_empty(journal, content):
    journal.save(FORM)
    journal.path.write_bytes(content)
    assert journal.load() is None
    assert not journal.path.exists()
    aside = [
        p for p in journal.path.parent.iterdir() if p.name.startswith("call.handler.json.corrupt-")
    ]
    assert len(aside) == 1 and aside[0].read_bytes() == content
    journal.save({"fresh": True})
    assert journal.load() == {"fresh": True}


def test_a_symbolic_link_in_place_of_the_draft_is_not_followed(journal, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"stolen": true}', encoding="utf-8")
    journal.save(FORM)
    journal.path.unlink()
    journal.path.symlink_to(secret)
    assert journal.load() is None
    assert secret.read_text(encoding="utf-8") == '{"stolen": true}'
    journal.save({"mine": 1})
    assert not journal.path.is_symlink() and journal.load() == {"mine": 1}


def test_clear_forgets_the_draft_and_is_safe_to_repeat(journal):
    journal.save(FORM)
    journal.clear()
    journal.clear()
    assert journal.load() is None


def test_a_draft_is_a_dict(journal):
    with pytest.raises(TypeError):
        journal.save(["not", "a", "form"])


@pytest.mark.parametrize(
    "username",
    [
        "",
        ".",
        "..",
        "../evil",
        "a/b",
        "/etc/passwd",
        "a\\b",
        "nul\x00",
        "tab\tname",
        "esc\x1b",
    ],
)
def test_a_username_that_could_leave_the_directory_is_refused(tmp_path, username):
    with pytest.raises(ValueError):
        DraftJournal(tmp_path, username)
    with pytest.raises(ValueError):
        draft_journal(tmp_path, username)


def test_each_operator_has_their_own_draft(tmp_path):
    mine, theirs = draft_journal(tmp_path, "one"), draft_journal(tmp_path, "two")
    mine.save({"who": "one"})
    theirs.save({"who": "two"})
    assert (mine.load(), theirs.load()) == ({"who": "one"}, {"who": "two"})


def test_each_form_keeps_its_own_draft_and_an_operator_lists_only_theirs(tmp_path):
    from controlroom.services.drafts import draft_journal, form_key

    mine = draft_journal(tmp_path, "test")
    other = draft_journal(tmp_path, "test.supervisor")  # a name that starts like mine
    other.save({"caller_name": "Not Mine"})
    first, second = (mine.for_form(form_key(key)) for key in ("key-one", "key-two"))
    first.save({"caller_name": "One"})
    second.save({"caller_name": "Two"})
    mine.save({"caller_name": "Kept Before"})  # the single file of older versions
    os.utime(first.path, (1_000_000, 1_000_000))  # oldest first, whatever the clock did
    os.utime(second.path, (2_000_000, 2_000_000))
    assert first.path != second.path
    listed = mine.all()
    assert [j.load()["caller_name"] for j in listed] == ["Kept Before", "One", "Two"]
    assert [j.load()["caller_name"] for j in other.all()] == ["Not Mine"]
    second.clear()
    assert [j.load()["caller_name"] for j in mine.all()] == ["Kept Before", "One"]
    with pytest.raises(ValueError):
        mine.for_form("../escape")


def test_a_session_holds_its_forms_drafts_until_it_lets_go(tmp_path):
    mine, theirs = draft_storage.DraftClaims(), draft_storage.DraftClaims()
    journal = draft_journal(tmp_path / "data", "call.handler").for_form("a" * 32)
    journal.save(FORM)
    assert not theirs.held_elsewhere(journal)
    assert mine.claim(journal)
    assert mine.claim(journal)  # holding it twice is still one hold
    assert theirs.held_elsewhere(journal) and not mine.held_elsewhere(journal)
    assert not theirs.claim(journal)
    assert mode(journal.path.with_suffix(".lock")) == 0o600
    mine.release_all()  # the session ends: the draft stays, free for the next
    assert journal.load() == FORM
    assert not theirs.held_elsewhere(journal)
    assert theirs.claim(journal)
    theirs.release(journal)  # saved or discarded: the lock file goes too
    assert not journal.path.with_suffix(".lock").exists()
    assert [j.path for j in journal.all()] == [journal.path]  # lock files are not drafts


def test_a_killed_session_lets_go_of_its_drafts(tmp_path):
    """A real second process holds a draft; kill -9 frees it (the kernel drops the lock)."""
    import signal
    import subprocess
    import sys

    journal = draft_journal(tmp_path / "data", "call.handler").for_form("b" * 32)
    journal.save(FORM)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from controlroom.data.drafts import DraftClaims, DraftJournal\n"
            "j = DraftJournal(Path(sys.argv[1]), 'call.handler', 'b' * 32)\n"
            "assert DraftClaims().claim(j)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        probe = draft_storage.DraftClaims()
        assert probe.held_elsewhere(journal)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert not probe.held_elsewhere(journal)
        assert journal.load() == FORM
    finally:
        holder.kill()
        holder.wait(timeout=10)
