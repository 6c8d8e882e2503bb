"""The job life cycle as data, the retry policy with time passed in, and docs/gateway.md drawn from them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from faxengine.gateway.errors import GatewayConfigError, JobStateError
from faxengine.gateway.jobs import (ACTIONS, CALL_OUTCOMES, DONE, FAILED, LINE_CODES, REFUSALS,
                                    SENDING, STATUSES, TABLE, TOO_MANY_PAGES, WAITING, Job,
                                    RetryPolicy, Transition, detail_no, diagram, markdown)
from faxengine.t30.result import CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "gateway.md"
T0 = datetime(2010, 1, 20, 1, 20, 30, tzinfo=timezone.utc)


def test_every_t30_and_line_result_code_has_an_outcome():
    assert set(CALL_OUTCOMES) == set(CODES) | set(LINE_CODES)
    assert set(CALL_OUTCOMES.values()) == {"done", "retry", "fail", "requeue"}


def test_table_is_closed_and_every_status_is_reachable_from_waiting():
    seen, todo = set(), [WAITING]
    while todo:
        status = todo.pop()
        if status not in seen:
            seen.add(status)
            todo.extend(t.status for t in TABLE[status].values())
    assert seen == set(STATUSES) == set(TABLE)
    assert all(not TABLE[s] for s in (DONE, FAILED, *REFUSALS))
    assert all(a in ACTIONS for e in TABLE.values() for t in e.values() for a in t.actions)
    with pytest.raises(ValueError, match="unknown job action"):
        Transition(DONE, ("fax it",))
    with pytest.raises(ValueError, match="unknown job status"):
        Transition("送信済み")


def test_a_call_that_succeeds_first_time():
    job, t = Job("0000000007001", "0921234567").claim(T0)
    assert (job.status, t.actions) == (SENDING, ("dial",))
    job, t = job.finish("OK", T0 + timedelta(seconds=40), RetryPolicy())
    assert (job.status, job.attempts, job.result_code, t.actions) == (
        DONE, 1, "OK", ("send result mail",))
    assert job.sent_at == T0 + timedelta(seconds=40) and job.final


@pytest.mark.parametrize("retries", [0, 1, 2, 3])
def test_busy_is_retried_the_account_s_number_of_times_at_its_interval(retries):
    policy = RetryPolicy(retries, timedelta(minutes=5))
    job, now = Job("0000000005001", "0451234567"), T0
    for attempt in range(1, retries + 2):
        assert job.ready(now)
        job, _ = job.claim(now)
        job, t = job.finish("BUSY", now, policy)
        assert job.attempts == attempt and job.result_code == "BUSY"
        if attempt <= retries:
            assert (job.status, t.actions, job.due) == (WAITING, ("schedule retry",),
                                                        now + timedelta(minutes=5))
            assert not job.ready(now + timedelta(minutes=4))
            with pytest.raises(JobStateError, match="is not due before"):
                job.claim(now + timedelta(minutes=4))
            now += timedelta(minutes=5)
        else:
            assert (job.status, t.actions) == (FAILED, ("send result mail",))
            assert job.sent_at == now                       # 送信日時: the last attempt


@pytest.mark.parametrize("code", ["NO_ANSWER", "NOT_FAX", "TRAINING_FAILED", "PAGE_REJECTED",
                                  "REMOTE_DISCONNECT", "TIMEOUT_T1", "TIMEOUT_T2",
                                  "TIMEOUT_T4", "TIMEOUT_T5", "LINE_FAILED"])
def test_no_answer_and_failed_transfers_are_retried(code):
    job, _ = Job("0000000001001", "0312345678").claim(T0)
    assert job.finish(code, T0, RetryPolicy(1))[0].status == WAITING


def test_incompatible_is_not_retried_and_an_abort_does_not_count():
    job, _ = Job("0000000001001", "0312345678").claim(T0)
    assert job.finish("INCOMPATIBLE", T0, RetryPolicy(3))[0].status == FAILED
    back, t = job.finish("LOCAL_ABORT", T0, RetryPolicy(0))
    assert (back.status, back.attempts, back.result_code, t.actions) == (
        WAITING, 0, None, ("requeue",))
    with pytest.raises(JobStateError, match="unknown call result code 'HUNG'"):
        job.finish("HUNG", T0, RetryPolicy())


def test_refused_content_never_dials_and_never_retries():
    job, t = Job("0000000002001", "0612345678").refuse(TOO_MANY_PAGES, T0)
    assert (job.status, job.attempts, t.actions) == (TOO_MANY_PAGES, 0, ("send result mail",))
    with pytest.raises(JobStateError, match="job 0000000002001 is 超過枚数エラー: CLAIM is not "
                                            r"a step from there \(allowed: none, it has ended\)"):
        job.claim(T0)
    with pytest.raises(JobStateError, match="is not a refusal"):
        Job("1", "2").refuse(FAILED, T0)
    with pytest.raises(JobStateError, match="only a job being sent"):
        Job("1", "2").finish("OK", T0, RetryPolicy())


def test_retry_policy_is_0_to_3():
    assert RetryPolicy() == RetryPolicy(2, timedelta(seconds=60))
    for bad in (-1, 4, True, 2.0):
        with pytest.raises(GatewayConfigError, match=f"retries is {bad!r}: an account retries "
                                                     "0, 1, 2 or 3 times"):
            RetryPolicy(bad)
    with pytest.raises(GatewayConfigError, match="retry_interval"):
        RetryPolicy(2, timedelta(seconds=-1))


def test_detail_numbers_are_13_digits():
    assert detail_no(7, 1) == "0000000007001"
    assert detail_no(12345, 50) == "0000012345050"
    with pytest.raises(ValueError, match="destination index 0"):
        detail_no(7, 0)


def test_diagram_lists_every_transition():
    text = diagram()
    assert text.count("-->") == 1 + sum(len(e) or 1 for e in TABLE.values())
    assert "    SENDING --> WAITING: RETRY / schedule retry\n" in text
    assert '    state "超過枚数エラー" as TOO_MANY_PAGES\n' in text


def test_docs_show_the_life_cycle_as_it_is_now():
    md = DOC.read_text()
    begin = "<!-- BEGIN generated: gateway-jobs"
    section = md[md.index("-->", md.index(begin)) + 4:md.index("<!-- END generated: gateway-jobs")]
    assert section == markdown(), "run python -m faxengine.gateway.jobs --markdown into docs/gateway.md"
