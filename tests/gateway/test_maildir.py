"""The Maildir store: layout, durability by key, safe names, crash and redelivery."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from faxengine.gateway.maildir import MaildirError, MailStore, mailbox_name

MAIL = b"From: fax_sys@cl1.faximo.jp\r\nTo: a@example.jp\r\nSubject: x\r\n\r\nline 1\r\nline 2\r\n"


def test_deliver_writes_new_with_lf_and_sizes(tmp_path):
    store = MailStore(tmp_path / "mail")
    path = store.deliver("Sample@Edicworks.com", MAIL, "<1.result@cl1.faximo.jp>")
    box = tmp_path / "mail" / "sample@edicworks.com"
    assert sorted(p.name for p in box.iterdir()) == ["cur", "new", "tmp"]
    assert path.parent == box / "new"
    assert path.read_bytes() == MAIL.replace(b"\r\n", b"\n")
    assert path.name.endswith(f",S={len(MAIL) - 6},W={len(MAIL)}")
    assert list((box / "tmp").iterdir()) == []


def test_same_key_leaves_one_message_also_after_it_was_seen(tmp_path):
    store = MailStore(tmp_path)
    first = store.deliver("a@example.jp", MAIL, "k1")
    assert store.deliver("a@example.jp", MAIL, "k1") == first
    [seen] = store.messages("a@example.jp")            # moved to cur/
    assert seen.path.name == first.name + ":2,"
    assert store.deliver("A@EXAMPLE.JP", MAIL, "k1") == seen.path
    store.deliver("a@example.jp", MAIL + b"2", "k2")
    assert [m.uid for m in store.messages("a@example.jp")][0] == seen.uid
    assert len(store.messages("a@example.jp")) == 2


def test_messages_oldest_first_with_crlf_sizes_and_octets(tmp_path):
    store = MailStore(tmp_path)
    for i in range(3):
        store.deliver("a@example.jp", MAIL + b"n%d\n" % i, f"k{i}")
        time.sleep(0.01)
    messages = store.messages("a@example.jp")
    assert [store.read(m)[-4:] for m in messages] == [b"n0\r\n", b"n1\r\n", b"n2\r\n"]
    assert [m.size for m in messages] == [len(store.read(m)) for m in messages]
    assert all(m.path.parent.name == "cur" for m in messages)
    assert store.remove(messages[:2]) == []
    assert [m.uid for m in store.messages("a@example.jp")] == [messages[2].uid]


def test_size_read_from_a_file_without_size_fields(tmp_path):
    """A message another program put into the Maildir (no ,W=) is measured."""
    store = MailStore(tmp_path)
    box = store.mailbox("a@example.jp")
    (box / "new" / "1700000000.M1P2.host").write_bytes(b"Subject: y\n\nbody\n")
    [m] = store.messages("a@example.jp")
    assert (m.uid, m.size) == ("1700000000.M1P2.host", 20)


@pytest.mark.parametrize("address, name", [
    ("../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd"),
    ("..", "%2E."),
    ("a/b@x.jp", "a%2Fb@x.jp"),
    ("ユーザ@例え.jp", mailbox_name("ユーザ@例え.jp")),
])
def test_addresses_never_leave_the_root(tmp_path, address, name):
    store = MailStore(tmp_path / "mail")
    assert mailbox_name(address) == name
    path = store.deliver(address, MAIL, "k")
    assert path.resolve().is_relative_to((tmp_path / "mail").resolve())
    assert path.parent.parent.parent == tmp_path / "mail"
    assert "/" not in name and name not in (".", "..")


def test_bad_input_says_what_is_wrong(tmp_path):
    store = MailStore(tmp_path)
    with pytest.raises(MaildirError, match="an empty address has no mailbox"):
        store.deliver("  ", MAIL, "k")
    with pytest.raises(TypeError, match="raw must be bytes, not str"):
        store.deliver("a@x.jp", "text", "k")
    (tmp_path / "blocked").write_text("a file where the mailbox should be")
    with pytest.raises(MaildirError, match="cannot make the mailbox"):
        MailStore(tmp_path / "blocked").deliver("a@x.jp", MAIL, "k")


def test_one_key_from_many_threads_is_one_message(tmp_path):
    store = MailStore(tmp_path)
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(store.deliver("a@x.jp", MAIL, "same")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(paths) == 8 and len(set(paths)) == 1
    assert len(store.messages("a@x.jp")) == 1


DELIVERER = textwrap.dedent("""
    import sys
    from faxengine.gateway.maildir import MailStore
    store = MailStore(sys.argv[1])
    body = b"x" * 200_000 + b"\\n"
    for i in range(int(sys.argv[2])):
        store.deliver("a@x.jp", b"Subject: %d\\n\\n" % i + body, "key%d" % i)
        print(i, flush=True)
""")


def test_killed_while_delivering_then_redelivered_leaves_each_message_once(tmp_path):
    """The outbox redelivers every key it did not see finish; kill at random points."""
    rng = random.Random(11)
    count = 30
    body = b"x" * 200_000 + b"\n"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", DELIVERER, str(tmp_path), str(count)],
                                stdout=subprocess.PIPE, env=env)
        first = proc.stdout.readline()          # started delivering
        assert first, "the delivering process did not start"
        time.sleep(rng.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        store = MailStore(tmp_path)
        for i in range(count):
            store.deliver("a@x.jp", b"Subject: %d\n\n" % i + body, "key%d" % i)
        messages = store.messages("a@x.jp")
        assert len(messages) == count
        assert sorted(store.read(m).partition(b"\r\n")[0] for m in messages) == \
            sorted(b"Subject: %d" % i for i in range(count))
        assert all(m.size == len(store.read(m)) for m in messages)
        store.remove(messages)


def test_what_a_crash_left_in_tmp_goes_after_36_hours(tmp_path):
    store = MailStore(tmp_path)
    box = store.mailbox("a@x.jp")
    stale, fresh = box / "tmp" / "stale", box / "tmp" / "fresh"
    stale.write_bytes(b"half a mess")
    fresh.write_bytes(b"being written")
    hours_ago = time.time() - 37 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    assert store.messages("a@x.jp") == []
    assert sorted(p.name for p in (box / "tmp").iterdir()) == ["fresh"]


def test_a_message_another_reader_flagged_meanwhile_is_read_and_deleted_where_it_is(tmp_path):
    """Dovecot renames cur/<uid>:2, to cur/<uid>:2,S when its client has seen the
    message: our session's path is then stale.  RETR failed ('gone'), and DELE +
    QUIT left the message, so the client downloaded it again next time."""
    store = MailStore(tmp_path)
    for i in range(2):
        store.deliver("a@example.jp", MAIL + b"n%d\n" % i, f"k{i}")
        time.sleep(0.01)
    first, second = store.messages("a@example.jp")
    first.path.rename(first.path.with_name(first.path.name + "S"))
    assert store.read(first)[-4:] == b"n0\r\n"
    assert store.remove([first]) == []
    assert [m.uid for m in store.messages("a@example.jp")] == [second.uid]
    # one a reader put back in new/ is found there; one deleted is gone for good
    back_in_new = second.path.parent.parent / "new" / second.uid
    second.path.rename(back_in_new)
    assert store.read(second)[-4:] == b"n1\r\n"
    back_in_new.unlink()
    with pytest.raises(MaildirError, match=rf"^message {second.uid} is gone: No such file"):
        store.read(second)
    assert store.remove([second]) == []


@pytest.mark.parametrize("info", [None, ":2,", ":2,S", ":2,RS", ":2,DFPRST"])
def test_a_key_delivered_before_a_restart_is_found_in_new_or_cur_by_name(tmp_path, info):
    """The duplicate check asks for the message by name (no scan of the box): a
    new MailStore (the gateway restarted) finds it in new/, or in cur/ under
    whatever flags a reader (our POP3, Dovecot, a mail program) gave it."""
    first = MailStore(tmp_path).deliver("a@example.jp", MAIL, "<7.result@cl1.faximo.jp>")
    moved = first if info is None else first.parent.parent / "cur" / (first.name + info)
    os.rename(first, moved)
    again = MailStore(tmp_path)                       # after the restart
    assert again.deliver("a@example.jp", MAIL, "<7.result@cl1.faximo.jp>") == moved
    box = tmp_path / "a@example.jp"
    assert sorted(os.listdir(box / "new")) + sorted(os.listdir(box / "cur")) == [moved.name]
    assert os.listdir(box / "tmp") == []
    # another key is another message, whatever is in the box
    other = again.deliver("a@example.jp", MAIL, "<8.result@cl1.faximo.jp>")
    assert other.parent == box / "new" and other != moved


def test_a_message_deleted_between_the_scan_and_the_stat_is_not_listed(tmp_path, monkeypatch):
    """messages() scans cur/, then stats each name: another reader (Dovecot, a
    session's QUIT) may delete one in between.  The race is made certain by
    monkeypatching os.stat: for the name of the second message it deletes the
    file first, then stats (FileNotFoundError, as in the race)."""
    store = MailStore(tmp_path)
    paths = []
    for i in range(3):
        paths.append(store.deliver("a@example.jp", MAIL + b"n%d\n" % i, f"k{i}"))
        time.sleep(0.01)
    victim = paths[1].name + ":2,"
    real_stat = os.stat
    raced = []

    def stat_after_another_reader(path, *args, **kwargs):
        if os.fspath(path).endswith(victim) and not raced:
            raced.append(path)
            os.unlink(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat_after_another_reader)
    listed = store.messages("a@example.jp")
    monkeypatch.undo()
    assert raced, "the race was not made: messages() no longer stats each name"
    assert [store.read(m)[-4:] for m in listed] == [b"n0\r\n", b"n2\r\n"]
