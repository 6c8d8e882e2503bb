"""The store's API on SQLite and PostgreSQL: accept, expand, claim, finish, requeue,
outbox, image expiry (faxengine/gateway/store, docs/gateway.md "Storage")."""
from __future__ import annotations

import socket
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from faxengine.gateway import jobs, results
from faxengine.gateway.errors import GatewayConfigError, JobStateError
from faxengine.gateway.store import (AttemptRecord, AttemptRow, JobRow, OutboxRow, RequestRow,
                                     Store, StoreError)

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=timezone.utc)
SETTINGS = results.ResultSettings()


def request_mail(numbers) -> bytes:
    to = ", ".join(f"{n}@cl1.faximo.jp" for n in numbers)
    return f"From: sample@edicworks.com\r\nTo: {to}\r\nSubject: s\r\n\r\nbody\r\n".encode()


def _mail(detail_no: str, status: str = jobs.DONE) -> results.ResultMail:
    return results.result_mail(SETTINGS, to="sample@edicworks.com", number="0921234567",
                                status=status, sent_at=T0, pages=1, subject="件名", date=T0,
                                message_id=results.message_id(detail_no, SETTINGS))


def _attempt(code: str, at: datetime = T0, **kw) -> AttemptRecord:
    return AttemptRecord(at, at + timedelta(seconds=30), code, **kw)


def test_accept_keeps_the_mail_byte_for_byte_and_numbers_requests(store, data_dir):
    raw1, raw2 = b"From: a@b\r\n\r\n\x00\xff\r\n", b"x" * 70000
    seq1 = store.accept(raw1, "a@b", ["0921234567@cl1.faximo.jp"], T0)
    seq2 = store.accept(raw2, "c@d", ["1@x", "2@x"], T0 + timedelta(seconds=1))
    assert seq2 == seq1 + 1
    assert (data_dir / "spool" / f"{seq1}.eml").read_bytes() == raw1
    assert (data_dir / "spool" / f"{seq2}.eml").read_bytes() == raw2
    pending = store.unexpanded()
    assert [(r.seq, r.mail_from, r.rcpt_to, r.received_at) for r in pending] == [
        (seq1, "a@b", ("0921234567@cl1.faximo.jp",), T0),
        (seq2, "c@d", ("1@x", "2@x"), T0 + timedelta(seconds=1))]
    assert pending[0].read() == raw1 and pending[0].received_at.tzinfo == timezone.utc
    assert not list((data_dir / "spool").glob(".*"))      # no temporary left


def test_accept_refuses_what_it_cannot_keep(store):
    with pytest.raises(StoreError, match=r"^received_at is datetime\.datetime\(2026, 12, 1, 9, "
                                         r"0\): the store takes aware datetimes"):
        store.accept(b"x", "a@b", [], T0.replace(tzinfo=None))
    with pytest.raises(StoreError, match="^accept takes the mail as bytes, not str$"):
        store.accept("text", "a@b", [], T0)
    assert store.unexpanded() == []


def test_expand_makes_the_jobs_once_with_the_refusal_mails(store, submit, sync_sample):
    sync_sample(store)
    seq = submit(store, ["0921234567", "090-1234-5678", "0451234567"], image="images/r.tif")
    assert store.unexpanded() == []
    with store.session() as s:
        req = s.get(RequestRow, seq)
        assert (req.state, req.sender, req.subject, req.pages, req.account.name) == \
            ("expanded", "sample@edicworks.com", "FAX送信サンプル", 1, "sample")
        rows = s.scalars(select(JobRow).order_by(JobRow.detail_no)).all()
        assert [(r.detail_no, r.index, r.number, r.status, r.image_path) for r in rows] == [
            (f"{seq:010d}001", 1, "0921234567", jobs.WAITING, "images/r.tif"),
            (f"{seq:010d}002", 2, "09012345678", jobs.BAD_NUMBER, None),
            (f"{seq:010d}003", 3, "0451234567", jobs.WAITING, "images/r.tif")]
        assert rows[1].sent_at == T0 and rows[0].due_at == T0
    due = store.outbox_due(T0)
    assert [(m.message_id, m.detail_no, m.request_seq) for m in due] == \
        [(f"<{seq:010d}002.result@cl1.faximo.jp>", f"{seq:010d}002", seq)]
    # the same request expanded again (after a crash, or by another host): nothing changes
    from faxengine.gateway.mail import parse_request
    assert store.expand(seq, parse_request(b"", "cl1.faximo.jp"), (), None, []) is False
    with pytest.raises(StoreError, match="^no request 999: expand only what accept returned$"):
        store.expand(999, parse_request(b"", "cl1.faximo.jp"), (), None, [])


def test_claim_takes_the_oldest_due_job_once(store, submit):
    first = submit(store, ["0921234567"], now=T0)
    second = submit(store, ["0451234567"], now=T0 + timedelta(seconds=5))
    assert store.claim(T0 - timedelta(seconds=1), "w1") is None       # nothing due yet
    c1 = store.claim(T0 + timedelta(seconds=10), "host-a/1")
    assert (c1.detail_no, c1.number, c1.job.status, c1.worker, c1.pages, c1.sender) == \
        (f"{first:010d}001", "0921234567", jobs.SENDING, "host-a/1", 1, "sample@edicworks.com")
    assert (c1.subject, c1.policy, c1.result_mail, c1.account) == \
        ("FAX送信サンプル", jobs.RetryPolicy(), True, None)
    c2 = store.claim(T0 + timedelta(seconds=10), "host-a/2")
    assert c2.detail_no == f"{second:010d}001"
    assert store.claim(T0 + timedelta(days=1), "host-a/3") is None    # both are 送信中
    with store.session() as s:
        row = s.get(JobRow, c1.detail_no)
        assert (row.status, row.claimed_by, row.claimed_at) == \
            (jobs.SENDING, "host-a/1", T0 + timedelta(seconds=10))


def test_finish_records_job_attempt_and_mail_in_one_go(store, submit, sync_sample):
    sync_sample(store, retries=1, retry_interval="90s")
    seq = submit(store, ["0921234567"], image="images/x.tif")
    c = store.claim(T0, "w")
    assert c.policy == jobs.RetryPolicy(1, timedelta(seconds=90)) and c.account == "sample"
    trace = [{"t": 0.0, "event": "frame", "dir": "rx", "frame": "DIS"}]
    job, _ = c.job.finish("BUSY", T0 + timedelta(seconds=30), c.policy)
    store.finish(c.detail_no, job, _attempt("BUSY", detail="busy", trace=trace), None)
    assert store.claim(T0 + timedelta(seconds=119), "w") is None       # 90 s after the call
    c = store.claim(T0 + timedelta(seconds=120), "w")
    assert c.job.attempts == 1 and c.job.result_code == "BUSY"
    end = T0 + timedelta(seconds=150)
    job, _ = c.job.finish("OK", end, c.policy)
    store.finish(c.detail_no, job, _attempt("OK", T0 + timedelta(seconds=120), pages_sent=1),
                 _mail(c.detail_no))
    with store.session() as s:
        row = s.get(JobRow, c.detail_no)
        assert (row.status, row.attempts, row.result_code, row.sent_at, row.due_at,
                row.claimed_by, row.image_expires_at) == \
            (jobs.DONE, 2, "OK", end, None, None, end + timedelta(hours=264))
        att = s.scalars(select(AttemptRow).order_by(AttemptRow.id)).all()
        assert [(a.n, a.result_code, a.detail, a.pages_sent, a.trace) for a in att] == \
            [(1, "BUSY", "busy", 0, trace), (2, "OK", "", 1, [])]
    [mail] = store.outbox_due(end)
    assert (mail.message_id, mail.detail_no, mail.request_seq, mail.to_address) == \
        (f"<{seq:010d}001.result@cl1.faximo.jp>", c.detail_no, seq, "sample@edicworks.com")
    assert mail.raw == _mail(c.detail_no).message
    with pytest.raises(JobStateError, match=rf"^job {c.detail_no} is 送信完了, not 送信中: it was "
                                            r"requeued or finished meanwhile"):
        store.finish(c.detail_no, job, _attempt("OK"), None)


def test_finish_wants_the_job_after_the_call(store, submit):
    submit(store, ["0921234567"])
    c = store.claim(T0, "w")
    with pytest.raises(JobStateError, match=rf"^finish job {c.detail_no} with the job that "
                                            r"Job.finish returned, not one 送信中"):
        store.finish(c.detail_no, c.job, _attempt("OK"), None)
    with pytest.raises(StoreError, match=r"^attempt trace is not JSON"):
        _attempt("OK", trace=[{"t": object()}])


def test_requeue_stale_puts_back_the_jobs_of_dead_workers(store, submit):
    for n in ("0921234567", "0451234567", "0312345678"):
        submit(store, [n])
    a1, a2, b1 = (store.claim(T0, w) for w in ("host-a/1", "host-a/2", "host-b/1"))
    assert store.requeue_stale("host-a/") == 2
    again = store.claim(T0, "host-c/1")
    assert again.detail_no == a1.detail_no and again.job.attempts == 0
    assert store.requeue_stale("host_") == 0        # LIKE wildcards are literal
    assert store.requeue_stale(None) == 2           # every worker: b1 and host-c's a1
    assert {store.claim(T0, "w").detail_no for _ in range(3)} == \
        {a1.detail_no, a2.detail_no, b1.detail_no}


def test_a_stopped_call_is_not_counted(store, submit):
    submit(store, ["0921234567"])
    c = store.claim(T0, "w")
    job, _ = c.job.finish("LOCAL_ABORT", T0 + timedelta(seconds=5), c.policy)
    store.finish(c.detail_no, job, _attempt("LOCAL_ABORT"), None)
    again = store.claim(T0 + timedelta(seconds=31), "w")
    assert again.job.attempts == 0 and again.detail_no == c.detail_no


def test_outbox_is_exactly_once(store):
    mail = _mail("0000000007001")
    assert store.queue_mail(mail, T0) is True
    assert store.queue_mail(mail, T0 + timedelta(seconds=1)) is False   # the same Message-ID
    [due] = store.outbox_due(T0)
    assert (due.message_id, due.detail_no, due.tries) == \
        ("<0000000007001.result@cl1.faximo.jp>", "0000000007001", 0)
    store.outbox_failed(due.message_id, T0, T0 + timedelta(minutes=5), "421 try later")
    assert store.outbox_due(T0 + timedelta(minutes=4)) == []
    [due] = store.outbox_due(T0 + timedelta(minutes=5))
    assert due.tries == 1
    store.outbox_delivered(due.message_id, T0 + timedelta(minutes=5))
    assert store.outbox_due(T0 + timedelta(days=1)) == []
    store.outbox_failed(due.message_id, T0, None)        # after delivery: no effect
    other = _mail("0000000008001", jobs.FAILED)
    store.queue_mail(other, T0)
    store.outbox_failed("<0000000008001.result@cl1.faximo.jp>", T0, None, "550 no such user")
    assert store.outbox_due(T0 + timedelta(days=1)) == []   # given up for good
    with store.session() as s:
        rows = {r.message_id: r for r in s.scalars(select(OutboxRow))}
    assert rows["<0000000007001.result@cl1.faximo.jp>"].delivered_at == T0 + timedelta(minutes=5)
    gave_up = rows["<0000000008001.result@cl1.faximo.jp>"]
    assert (gave_up.failed_at, gave_up.last_error, gave_up.delivered_at) == \
        (T0, "550 no such user", None)


def test_images_expire_264_hours_after_the_last_attempt(store, submit, data_dir):
    (data_dir / "images").mkdir()
    shared = data_dir / "images" / "r.tif"
    shared.write_bytes(b"II*\x00")
    submit(store, ["0921234567", "0451234567"], image="images/r.tif")
    ends = []
    for i in range(2):
        c = store.claim(T0, "w")
        end = T0 + timedelta(minutes=i + 1)
        job, _ = c.job.finish("OK", end, c.policy)
        store.finish(c.detail_no, job, _attempt("OK"), None)
        ends.append((c.detail_no, end))
    first, second = ends
    assert store.expired_images(first[1] + timedelta(hours=264, microseconds=-1)) == []
    expired = store.expired_images(second[1] + timedelta(hours=264))
    assert [(e.detail_no, e.path, e.expired_at) for e in expired] == [
        (first[0], shared, first[1] + timedelta(hours=264)),
        (second[0], shared, second[1] + timedelta(hours=264))]
    assert store.drop_image(first[0]) is True
    assert shared.exists()                  # the other job still sends this file
    assert store.drop_image(second[0]) is True and not shared.exists()
    assert store.drop_image(second[0]) is False
    assert store.expired_images(T0 + timedelta(days=30)) == []


def test_image_paths_are_kept_relative_to_data_dir(store, data_dir, submit):
    from faxengine.gateway import mail

    seq = store.accept(b"x", "a@b", [], T0)
    request = mail.parse_request(request_mail(["0921234567", "0451234567", "0312345678"]),
                                 "cl1.faximo.jp")
    jobs_ = request.jobs(seq, T0)
    images = {jobs_[0].detail_no: data_dir / "images" / "a.tif",
              jobs_[1].detail_no: "/elsewhere/b.tif"}       # the third: no image
    assert store.expand(seq, request, jobs_, images, [])
    with store.session() as s:
        paths = [r.image_path for r in s.scalars(select(JobRow).order_by(JobRow.detail_no))]
    assert paths == ["images/a.tif", "/elsewhere/b.tif", None]
    assert store.claim(T0, "w").image_path == data_dir / "images" / "a.tif"


def test_a_waiting_job_keeps_its_image(store, submit):
    submit(store, ["0921234567"], image="images/r.tif")
    c = store.claim(T0, "w")
    job, _ = c.job.finish("BUSY", T0, jobs.RetryPolicy(3, timedelta(days=20)))
    store.finish(c.detail_no, job, _attempt("BUSY"), None)
    assert store.expired_images(T0 + timedelta(days=12)) == []     # due again in 20 days


def test_sqlite_is_in_wal_mode_with_full_sync(data_dir):
    with Store.open("", data_dir) as store:
        store.accept(b"x", "a@b", [], T0)
    db = sqlite3.connect(data_dir / "gateway.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    with Store.open("", data_dir) as store:       # opened again: migrated already, data kept
        assert [r.seq for r in store.unexpanded()] == [1]
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2     # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize("url, message", [
    ("mysql://x@y/z", r"^gateway database is 'mysql://x@y/z': give \"\" \(SQLite under "
                      r"data_dir\) or postgresql://user:password@host:port/dbname$"),
    ("not a url", r"^gateway database is 'not a url': give"),
    (None, r"^gateway database is None: give"),
])
def test_a_wrong_database_url_says_what_to_give(url, message, data_dir):
    with pytest.raises(GatewayConfigError, match=message):
        Store.open(url, data_dir)


def test_an_unreachable_postgresql_says_so_without_the_password(data_dir):
    with socket.socket() as probe:          # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://fax:secret@127.0.0.1:{port}/gateway"
    with pytest.raises(StoreError) as err:
        Store.open(url, data_dir)
    text = str(err.value)
    assert text.startswith("database postgresql+psycopg://fax:***@127.0.0.1:") and \
        "secret" not in text and text.endswith("; check that it runs and the URL (user, "
                                               "password, database name)")
    assert "\n" not in text


def test_a_reader_does_not_wait_for_a_writer(data_dir, submit, sync_sample):
    import threading
    import time

    with Store.open("", data_dir) as store:
        sync_sample(store)
        held, release = threading.Event(), threading.Event()

        def hold_the_write_lock():
            with store.session.begin() as s:
                s.get(JobRow, "0")          # BEGIN IMMEDIATE: the write lock is taken
                held.set()
                release.wait(10)

        writer = threading.Thread(target=hold_the_write_lock)
        writer.start()
        try:
            assert held.wait(10)
            t = time.monotonic()
            assert store.account_for_sender("sample@edicworks.com").name == "sample"
            assert store.unexpanded() == [] and store.outbox_due(T0) == []
            assert time.monotonic() - t < 2.0
        finally:
            release.set()
            writer.join()


def test_a_lost_spool_file_is_named(store, data_dir):
    seq = store.accept(b"x", "a@b", [], T0)
    (data_dir / "spool" / f"{seq}.eml").unlink()
    [record] = store.unexpanded()
    with pytest.raises(StoreError, match=rf"^request {seq}: its spool file .*/spool/{seq}.eml "
                                         r"is missing; gateway hosts that share a database "
                                         r"must share data_dir$"):
        record.read()


def test_accept_wants_the_envelope_as_given_by_smtp(store):
    with pytest.raises(StoreError, match="^accept takes MAIL FROM as a str and RCPT TO as a "
                                         "list of str$"):
        store.accept(b"x", "a@b", "0921234567@cl1.faximo.jp", T0)


def test_a_database_gone_away_is_a_store_error(pg_cluster, tmp_path):
    url = pg_cluster.new_database()
    store = Store.open(url, tmp_path)
    try:
        pg_cluster.admin(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")
        with pytest.raises(StoreError, match=r"^database postgresql\+psycopg://faxengine@"
                                             r"127\.0\.0\.1:\d+/fax\w+: .*; nothing of claim "
                                             r"was done$"):
            store.claim(T0, "w")
    finally:
        store.close()


@pytest.mark.parametrize("call, message", [
    (lambda st: st.claim(T0, None), r'^worker is None: name the worker \("<host>/<n>"\), so '
                                    r'that requeue_stale can find its calls$'),
    (lambda st: st.finish("0000000001001", None, None, None),
     r"^finish's job is NoneType: give a Job$"),
    (lambda st: st.expand(1, b"raw", (), None, []),
     r"^expand's request is bytes: give a Request$"),
    (lambda st: st.queue_mail(b"From: x\r\n\r\n", T0),
     r"^queue_mail's mail is bytes: give a ResultMail$"),
    (lambda st: st.drop_image(7001), r"^detail_no is int: give a str$"),
    (lambda st: st.outbox_due(T0.replace(tzinfo=None)), r"^now is datetime.datetime\(2026, "
                                                        r"12, 1, 9, 0\): the store takes aware"),
])
def test_a_wrong_argument_is_said_plainly(call, message, data_dir):
    with Store.open("", data_dir) as store, pytest.raises(StoreError, match=message):
        call(store)


def test_a_wrong_accounts_value_names_what_to_give(data_dir):
    with Store.open("", data_dir) as store:
        for value in (None, {"name": "a"}, "sample"):
            with pytest.raises(GatewayConfigError, match=r"^accounts is \w+: give a list of "
                                                         r"\[\[accounts\]\] tables$"):
                store.sync_accounts(value)


def test_purge_spool_deletes_the_mails_of_expanded_requests_only(store, data_dir, submit):
    old = submit(store, ["0921234567"], now=T0)
    pending = store.accept(b"not expanded yet", "a@b", [], T0)
    new = submit(store, ["0921234567"], now=T0 + timedelta(days=20))
    spool = data_dir / "spool"
    assert store.purge_spool(T0 + timedelta(days=11)) == 1
    assert sorted(p.name for p in spool.iterdir()) == sorted([f"{pending}.eml", f"{new}.eml"])
    with store.session() as s:
        assert s.get(RequestRow, old).spool_path == ""
        assert s.get(JobRow, f"{old:010d}001").status == jobs.WAITING    # the job is kept
    assert store.purge_spool(T0 + timedelta(days=11)) == 0
    assert [r.seq for r in store.unexpanded()] == [pending]


def test_outbox_claims_have_an_owner_end_and_go_stale(store):
    """A result mail is claimed before delivery: never held by two workers; the
    claim ends with delivered/failed, is taken back by its gateway's name at
    a restart, and by anyone once older than OUTBOX_CLAIM_TIMEOUT."""
    from faxengine.gateway.store import OUTBOX_CLAIM_TIMEOUT

    for d in ("0000000007001", "0000000007002", "0000000007003"):
        store.queue_mail(_mail(d), T0)
    a1 = store.outbox_claim(T0, "host-a:10/outbox")
    b1 = store.outbox_claim(T0, "host-b:20/outbox")
    a2 = store.outbox_claim(T0, "host-a:10/outbox")
    assert [m.detail_no for m in (a1, b1, a2)] == ["0000000007001", "0000000007002",
                                                     "0000000007003"]
    assert store.outbox_claim(T0, "host-c:30/outbox") is None     # all held
    assert store.outbox_due(T0) == []
    store.outbox_delivered(a1.message_id, T0)
    store.outbox_failed(a2.message_id, T0, T0 + timedelta(seconds=5), "421 busy")
    assert store.outbox_claim(T0, "host-c:30/outbox") is None     # not due yet
    again = store.outbox_claim(T0 + timedelta(seconds=5), "host-c:30/outbox")
    assert (again.message_id, again.tries, again.taken_from) == (a2.message_id, 1, None)
    # host-c restarts: its claim ends; host-b's (a live one) stays
    assert store.requeue_outbox("host_") == 0                      # LIKE wildcards are literal
    assert store.requeue_outbox("host-c:") == 1
    assert store.outbox_claim(T0 + timedelta(seconds=6), "host-a:11/outbox").message_id == \
        a2.message_id
    # host-b never comes back: its claim is taken over once stale, and says whose it was
    assert store.outbox_claim(T0 + OUTBOX_CLAIM_TIMEOUT, "host-a:11/outbox") is None
    late = store.outbox_claim(T0 + OUTBOX_CLAIM_TIMEOUT + timedelta(seconds=1),
                              "host-a:11/outbox")
    assert (late.message_id, late.taken_from) == (b1.message_id, "host-b:20/outbox")
    with store.session() as s:
        rows = {r.detail_no: (r.claimed_by, r.delivered_at) for r in s.scalars(select(OutboxRow))}
    assert rows == {"0000000007001": ("host-a:10/outbox", T0),
                    "0000000007002": ("host-a:11/outbox", None),
                    "0000000007003": ("host-a:11/outbox", None)}
    with pytest.raises(StoreError, match=r"^owner is '': name the outbox worker "):
        store.outbox_claim(T0, "")
