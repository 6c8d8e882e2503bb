"""The history's CSV byte for byte (spec §4), its 60-day window and its filters."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from faxengine.gateway.history import (CSV_HEADER, Filters, HistoryQueryError, Record,
                                       csv_bytes, csv_window)

TOKYO = ZoneInfo("Asia/Tokyo")
JST = timezone(timedelta(hours=9))

# the spec's two sample rows
SAMPLES = [
    Record("0000000007001", datetime(2010, 1, 21, 0, 0, 0, tzinfo=JST), "0921234567", 3,
           "FAX送信サンプル福岡", "sample@edicworks.com", "送信完了", "OK", 1),
    Record("0000000005001", datetime(2010, 1, 20, 10, 20, 30, tzinfo=JST), "0451234567", None,
           "FAX送信サンプル横浜", "sample@edicworks.com", "送信エラー", "BUSY", 3),
]
SPEC_TEXT = (
    "送信日時,明細番号,送信先,枚数,件名,発信メールアドレス,発信状況\r\n"
    "2010-01-21 00:00:00,0000000007001,0921234567,3,'FAX送信サンプル福岡',sample@edicworks.com,送信完了,\r\n"
    "2010-01-20 10:20:30,0000000005001,0451234567,-,'FAX送信サンプル横浜',sample@edicworks.com,送信エラー,\r\n")


def _with(subject: str) -> Record:
    return Record("0000000009001", datetime(2010, 1, 21, tzinfo=JST), "0921234567", 1,
                  subject, "sample@edicworks.com", "送信完了")


def test_spec_sample_in_cp932():
    assert csv_bytes(SAMPLES, TOKYO) == SPEC_TEXT.encode("cp932")
    assert csv_bytes(SAMPLES, TOKYO)[:8] == b"\x91\x97\x90M\x93\xfa\x8e\x9e"   # 送信日時 in CP932


def test_spec_sample_in_utf8_with_bom():
    assert csv_bytes(SAMPLES, TOKYO, "utf-8") == b"\xef\xbb\xbf" + SPEC_TEXT.encode("utf-8")


def test_times_are_written_in_the_gateway_zone():
    utc = Record("0000000007001", datetime(2010, 1, 20, 15, 0, tzinfo=timezone.utc), "0921234567",
                 3, "s", "a@b.jp", "送信完了")
    assert csv_bytes([utc], TOKYO).split(b"\r\n")[1].startswith(b"2010-01-21 00:00:00,")


def test_header_only_when_nothing_matches():
    assert csv_bytes([], TOKYO) == (CSV_HEADER + "\r\n").encode("cp932")


@pytest.mark.parametrize("subject, row_subject", [
    ("見積書, 第2版", "'見積書, 第2版'"),             # a comma stays inside the quotes
    ("it's", "'it''s'"),                               # a quote is doubled
    ("一行目\r\n二行目\n三\r四", "'一行目 二行目 三 四'"),  # one record, one line
    ("", "''"),
])
def test_subjects_that_would_break_the_row(subject, row_subject):
    line = csv_bytes([_with(subject)], TOKYO, "utf-8").decode("utf-8-sig").split("\r\n")[1]
    assert line == ("2010-01-21 00:00:00,0000000009001,0921234567,1," + row_subject
                    + ",sample@edicworks.com,送信完了,")
    assert csv_bytes([_with(subject)], TOKYO).count(b"\r\n") == 2


def test_characters_cp932_cannot_hold_become_geta():
    data = csv_bytes([_with("請求書😀\u00e9\U00020b9f")], TOKYO)     # emoji, é, 𠮟 (JIS X 0213)
    assert b"'\x90\xbf\x8b\x81\x8f\x91\x81\xac\x81\xac\x81\xac'" in data
    assert "'請求書〓〓〓'" in data.decode("cp932")
    # the same subject in UTF-8 is kept whole
    assert "'請求書😀é𠮟'" in csv_bytes([_with("請求書😀\u00e9\U00020b9f")], TOKYO,
                                          "utf-8").decode("utf-8")


def test_jis_mapped_characters_are_written_as_cp932_ones():
    # WAVE DASH, MINUS SIGN, EM DASH (as JIS X 0208 maps into Unicode) are CP932 0x8160, 0x817C, 0x815C
    data = csv_bytes([_with("10\u301c20\u2212\u2014")], TOKYO)
    assert b"'10\x81`20\x81|\x81\\'" in data
    # the NEC and IBM extensions CP932 has stay themselves
    assert "'①㈱髙'" in csv_bytes([_with("①㈱髙")], TOKYO).decode("cp932")


def test_an_unknown_encoding_is_an_error():
    with pytest.raises(HistoryQueryError, match="encoding is 'latin-1'"):
        csv_bytes(SAMPLES, TOKYO, "latin-1")


def test_csv_window_defaults_and_60_day_bound():
    today = date(2026, 12, 6)
    w = csv_window(Filters(), today)
    assert (w.start, w.end) == (date(2026, 10, 7), today)
    assert csv_window(Filters(start=date(2026, 10, 7)), today).start == date(2026, 10, 7)
    with pytest.raises(HistoryQueryError) as e:
        csv_window(Filters(start=date(2026, 10, 6)), today)
    assert str(e.value) == ("from is 2026-10-06: the CSV goes back at most 60 days, "
                            "give 2026-10-07 or later")


def test_filters_from_query_parameters():
    f = Filters.parse({"from": "2026-12-01", "to": "2026-12-06", "number": "092-123-4567",
                       "status": "送信完了", "q": " 福岡 ", "page": "2", "other": "x"})
    assert f == Filters(date(2026, 12, 1), date(2026, 12, 6), "0921234567", "送信完了", "福岡", 2)
    assert f.query_string() == ("from=2026-12-01&to=2026-12-06&number=0921234567&"
                                "status=%E9%80%81%E4%BF%A1%E5%AE%8C%E4%BA%86&q=%E7%A6%8F%E5%B2%A1&page=2")
    assert Filters.parse({}) == Filters()
    lo, hi = f.bounds(TOKYO)
    assert lo == datetime(2026, 12, 1, tzinfo=JST) and hi == datetime(2026, 12, 7, tzinfo=JST)


def test_the_ends_of_the_calendar_are_open_bounds():
    assert Filters.parse({"from": "0001-01-01", "to": "9999-12-31"}).bounds(TOKYO) == (None, None)
    lo, hi = Filters.parse({"from": "0002-01-01", "to": "9998-12-31"}).bounds(TOKYO)
    assert lo.astimezone(timezone.utc).year == 1 and hi.year == 9999


@pytest.mark.parametrize("params, message", [
    ({"from": "2026-13-01"}, "from is '2026-13-01': give a date as YYYY-MM-DD"),
    ({"to": "' OR 1=1 --"}, "to is \"' OR 1=1 --\": give a date as YYYY-MM-DD"),
    ({"page": "0"}, "page is '0': give a page number from 1"),
    ({"page": "-1"}, "page is '-1': give a page number from 1"),
    ({"page": "٣"}, "page is '٣': give a page number from 1"),       # a digit, but not ASCII
])
def test_filters_that_cannot_be_read(params, message):
    with pytest.raises(HistoryQueryError) as e:
        Filters.parse(params)
    assert str(e.value) == message


@pytest.mark.parametrize("params", [{"status": "' OR 1=1 --"}, {"number": "0921' OR '1'='1"},
                                    {"from": "2026-12-06", "to": "2026-12-01"}])
def test_filters_that_match_nothing(params):
    assert Filters.parse(params).impossible
