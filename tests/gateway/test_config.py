"""The gateway's TOML configuration (gateway-interfaces.md): defaults, written
forms, and the one-line error of every key, compared exactly."""
from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest

from faxengine.gateway.config import (Config, Listen, load_config, parse_config,
                                      parse_duration, parse_listen, parse_size)
from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.results import FOOTER

REPO = Path(__file__).resolve().parents[2]
BASE = Path("/srv/fax")


def parse(text: str) -> Config:
    return parse_config(text, base=BASE)


def error(text: str) -> str:
    with pytest.raises(GatewayConfigError) as info:
        parse(text)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_an_empty_file_gives_the_pinned_defaults():
    c = parse("")
    g = c.gateway
    assert (g.fax_domain, g.system_address, g.database, g.lines, g.timezone) == \
        ("cl1.faximo.jp", "fax_sys@cl1.faximo.jp", "", 4, "Asia/Tokyo")
    assert g.data_dir == BASE / "var"
    assert g.stop_timeout == timedelta(seconds=30) and g.name == socket.gethostname()
    assert c.smtp.listen == Listen("127.0.0.1", 2525) and c.smtp.max_message_size == 20_000_000
    assert c.pop3.listen == Listen("127.0.0.1", 1110)
    assert c.web.listen == Listen("127.0.0.1", 8080) and c.web.secret_key == ""
    assert (c.results.delivery, c.results.smarthost, c.results.charset) == \
        ("mailbox", None, "iso-2022-jp")
    assert c.results.templates.footer == FOOTER
    assert (c.line.driver, c.line.realtime, c.line.numbers) == \
        ("simulated", False, {"default": "answer"})
    assert c.line.sip.uri == "sip:{number}@127.0.0.1:5062"
    assert c.accounts == ()


def test_the_system_address_follows_the_fax_domain():
    assert parse('[gateway]\nfax_domain = "fax.example.jp"').gateway.system_address == \
        "fax_sys@fax.example.jp"


def test_the_sample_file_reads_and_data_dir_is_relative_to_it():
    c = load_config(REPO / "samples" / "gateway.toml")
    assert c.gateway.data_dir == (REPO / "build" / "gateway-demo").resolve()
    assert c.line.numbers["0921234567"] == "answer"
    (account,) = c.accounts
    assert account.senders == ("sample@edicworks.com",)
    assert account.as_dict() == {"name": "sample", "password": "change-me",
                                 "senders": ["sample@edicworks.com"], "retries": 2,
                                 "retry_interval": 60, "result_mail": True, "role": "operator"}
    assert account.policy.retries == 2 and account.policy.interval == timedelta(seconds=60)


def test_a_full_file():
    c = parse('''
[gateway]
database = "postgresql://fax:pw@db.local/fax"
lines = 8
stop_timeout = "2m"
[smtp]
listen = "[::1]:0"
max_message_size = "1MiB"
[pop3]
listen = ""
[web]
listen = ""
secret_key = "s3cret-s3cret-s3cret"
[results]
delivery = "smtp"
smarthost = "relay.local:25"
charset = "UTF-8"
[results.templates]
success_subject = "done {number}"
[line]
driver = "sip"
realtime = true
[line.numbers]
"092-123-4567" = "busy"
[line.sip]
uri = "sip:{number}@pbx:5060"
user = "u"
password = "p"
registrar = "sip:pbx"
[[accounts]]
name = "a"
password = "x"
senders = ["A@Example.com", "b@example.com"]
retries = 0
retry_interval = 90
result_mail = false
''')
    assert c.gateway.lines == 8 and c.gateway.stop_timeout == timedelta(minutes=2)
    assert c.smtp.listen == Listen("::1", 0) and str(c.smtp.listen) == "[::1]:0"
    assert c.smtp.max_message_size == 1 << 20
    assert c.pop3.listen is None and c.web.listen is None
    assert c.results.smarthost == Listen("relay.local", 25) and c.results.charset == "utf-8"
    assert c.results.templates.success_subject == "done {number}"
    assert c.line.numbers == {"0921234567": "busy"}
    assert c.line.sip.registrar == "sip:pbx"
    (a,) = c.accounts
    assert (a.retries, a.retry_interval, a.result_mail, a.role) == \
        (0, timedelta(seconds=90), False, "user")
    assert c.result_settings.charset == "utf-8"
    text = "\n".join(c.describe())
    assert "postgresql://fax:***@db.local/fax" in text and "pw" not in text
    assert "pop3   off" in text and "web    off" in text


@pytest.mark.parametrize("text, value", [("20MB", 20_000_000), ("512KB", 512_000),
                                         ("1 GB", 10**9), ("2MiB", 2 << 20), (1000, 1000),
                                         ("1.5MB", 1_500_000)])
def test_sizes(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text, seconds", [("60s", 60), ("2m", 120), ("264h", 950400),
                                           ("500ms", 0.5), ("1d", 86400), (5, 5), (0.25, 0.25),
                                           ("0s", 0)])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_addresses_may_be_utf_8_and_are_checked():
    c = parse('[[accounts]]\nname = "日本"\npassword = "x"\nsenders = ["山田@例え.jp", '
              '"a.b+fax@mail.example.co.jp"]')
    assert c.accounts[0].senders == ("山田@例え.jp", "a.b+fax@mail.example.co.jp")
    for wrong in ("a@b@c", "a b@c.jp", "@c.jp", "a@", "a@.jp", "a@c..jp", "<a@c.jp>"):
        assert error(f'[[accounts]]\nname = "a"\npassword = "x"\nsenders = ["{wrong}"]') == \
            f'[[accounts]] "a" senders: "{wrong}" is not a mail address (give e.g. ' \
            f'"sample@edicworks.com")'


def test_listen_forms():
    assert parse_listen("localhost:25") == Listen("localhost", 25)
    assert parse_listen("", optional=True) is None


ERRORS = [
    # [gateway]
    ('[gateway]\nfax_domain = "no domain"',
     '[gateway] fax_domain: "no domain" is not a domain name (give e.g. "cl1.faximo.jp")'),
    ('[gateway]\nfax_domain = 5', '[gateway] fax_domain: 5 is not a string'),
    ('[gateway]\nsystem_address = "fax_sys"',
     '[gateway] system_address: "fax_sys" is not a mail address (give e.g. '
     '"sample@edicworks.com")'),
    ('[gateway]\ndata_dir = ""', '[gateway] data_dir: is empty (give a directory, e.g. "var")'),
    ('[gateway]\ndatabase = "mysql://u:secret@h/db"',
     '[gateway] database: "mysql://u:***@h/db" is not a PostgreSQL URL (give "" for SQLite '
     'under data_dir, or "postgresql://user:pw@host/db")'),
    ('[gateway]\nlines = 0', '[gateway] lines: 0 is outside 1..256 (the number of calls at once)'),
    ('[gateway]\nlines = "4"', '[gateway] lines: "4" is not a whole number'),
    ('[gateway]\nlines = true', '[gateway] lines: true is not a whole number'),
    ('[gateway]\ntimezone = "Mars/Olympus"',
     '[gateway] timezone: "Mars/Olympus" is not a time zone (give an IANA name such as '
     '"Asia/Tokyo")'),
    ('[gateway]\nstop_timeout = "soon"',
     '[gateway] stop_timeout: "soon" is not a duration (give e.g. "60s", "2m", "1h")'),
    ('[gateway]\nstop_timeout = -1',
     '[gateway] stop_timeout: -1 is not a duration (give e.g. "60s", "2m", "1h")'),
    ('[gateway]\nname = "host one"',
     '[gateway] name: "host one" is not a name of letters, digits, . _ - (this gateway among '
     'the hosts sharing a database)'),
    ('[gateway]\nlanes = 4',
     '[gateway] lanes: unknown key (the keys of [gateway] are fax_domain, system_address, '
     'data_dir, database, lines, timezone, stop_timeout, name)'),
    # [smtp]
    ('[smtp]\nlisten = "127.0.0.1"',
     '[smtp] listen: "127.0.0.1" is not HOST:PORT (give e.g. "127.0.0.1:2525")'),
    ('[smtp]\nlisten = ""', '[smtp] listen: "" is not HOST:PORT (give e.g. "127.0.0.1:2525")'),
    ('[smtp]\nlisten = "127.0.0.1:70000"', '[smtp] listen: "127.0.0.1:70000": port 70000 is '
     'above 65535'),
    ('[smtp]\nlisten = 2525', '[smtp] listen: 2525 is not HOST:PORT (give e.g. '
     '"127.0.0.1:2525")'),
    ('[smtp]\nmax_message_size = "big"',
     '[smtp] max_message_size: "big" is not a size (give e.g. "20MB", "512KB")'),
    ('[smtp]\nmax_message_size = 0',
     '[smtp] max_message_size: 0 is not a size (give e.g. "20MB", "512KB")'),
    ('[smtp]\ntls_cert = "cert.pem"',
     '[smtp] tls_key: is missing: tls_cert is given, and TLS needs both (a PEM certificate '
     'and its key)'),
    ('[smtp]\ntls_cert = "c.pem"\ntls_key = "k.pem"',
     '[smtp] tls_cert: "/srv/fax/c.pem": no such file'),
    # [pop3], [web]
    ('[pop3]\nlisten = "pop3"',
     '[pop3] listen: "pop3" is not HOST:PORT (give e.g. "127.0.0.1:2525" or "" for off)'),
    ('[web]\nlisten = false',
     '[web] listen: false is not HOST:PORT (give e.g. "127.0.0.1:2525" or "" for off)'),
    ('[web]\nsecret_key = 1', '[web] secret_key: 1 is not a string'),
    ('[web]\nsecret_key = "short"', '[web] secret_key: has 5 characters: give 16 or more (it '
     'signs the login cookies), or "" to have one generated'),
    # [results]
    ('[results]\ndelivery = "pigeon"', '[results] delivery: "pigeon" is not "mailbox" or "smtp"'),
    ('[results]\ndelivery = "smtp"',
     '[results] smarthost: is empty: delivery = "smtp" needs a relay (give "host:port")'),
    ('[results]\nsmarthost = "relay"',
     '[results] smarthost: "relay" is not HOST:PORT (give e.g. "127.0.0.1:2525" or "" for off)'),
    ('[results]\ncharset = "shift_jis"',
     '[results] charset: "shift_jis" is not "iso-2022-jp" or "utf-8"'),
    ('[results.templates]\nfooter = 3', '[results.templates] footer: 3 is not a string'),
    ('[results.templates]\nsuccess_body = "{fax}"',
     '[results.templates] results template success_body names {fax}: a template may name '
     'detail_no, footer, item, number, pages, reason, result_code, sent_at, status, subject'),
    ('[results.templates]\nheader = "x"',
     '[results.templates] header: unknown key (the keys of [results.templates] are '
     'success_subject, error_subject, success_body, error_body, refusal_body, footer)'),
    # [line]
    ('[line]\ndriver = "isdn"', '[line] driver: "isdn" is not "simulated" or "sip"'),
    ('[line]\nrealtime = "yes"', '[line] realtime: "yes" is not true or false'),
    ('[line]\nnumbers = 1', '[line] numbers: 1 is not a table'),
    ('[line.numbers]\n"092x" = "answer"',
     '[line.numbers] "092x": not a fax number (digits and - only) or "default"'),
    ('[line.sip]\nuri = "sip:pbx"\n[line]\ndriver = "sip"',
     '[line.sip] uri: "sip:pbx" is not a SIP URI with {number} (give e.g. '
     '"sip:{number}@pbx.example:5060")'),
    ('[line.sip]\nproxy = "x"',
     '[line.sip] proxy: unknown key (the keys of [line.sip] are uri, user, password, '
     'registrar)'),
    # [[accounts]]
    ('[[accounts]]\npassword = "x"',
     '[[accounts]] #1 name: is missing (the login name of the web admin)'),
    ('[[accounts]]\nname = "a"',
     '[[accounts]] "a" password: is missing (POP3 and the web admin log in with it)'),
    ('[[accounts]]\nname = "a"\npassword = "x"\n[[accounts]]\nname = "a"\npassword = "y"',
     '[[accounts]] "a" name: is given twice; account names are unique'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nsenders = ["nobody"]',
     '[[accounts]] "a" senders: "nobody" is not a mail address (give e.g. '
     '"sample@edicworks.com")'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nsenders = "a@b.jp"',
     '[[accounts]] "a" senders: "a@b.jp" is not a list'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nsenders = ["a@b.jp"]\n'
     '[[accounts]]\nname = "b"\npassword = "y"\nsenders = ["A@B.jp"]',
     '[[accounts]] "b" senders: "A@B.jp" is registered twice (also for account "a"); a sender '
     'address belongs to one account'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nsenders = ["a@b.jp", "a@b.jp"]',
     '[[accounts]] "a" senders: "a@b.jp" is registered twice (also for this account); a '
     'sender address belongs to one account'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nretries = 4',
     '[[accounts]] "a" retries: 4 is outside 0..3'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nretries = -1',
     '[[accounts]] "a" retries: -1 is outside 0..3'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nretry_interval = "often"',
     '[[accounts]] "a" retry_interval: "often" is not a duration (give e.g. "60s", "2m", '
     '"1h")'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nretry_interval = "1500ms"',
     '[[accounts]] "a" retry_interval: "1500ms" is not a whole number of seconds (the store '
     'keeps seconds)'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nresult_mail = "no"',
     '[[accounts]] "a" result_mail: "no" is not true or false'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nrole = "admin"',
     '[[accounts]] "a" role: "admin" is not "user" or "operator"'),
    ('[[accounts]]\nname = "a"\npassword = "x"\nemail = "x"',
     '[[accounts]] "a" email: unknown key (the keys of [[accounts]] "a" are name, password, '
     'senders, retries, retry_interval, result_mail, role)'),
    ('accounts = 3', 'the file accounts: 3 is not a list'),
    ('accounts = [3]', '[[accounts]] #1: 3 is not a table'),
    ('[smtpd]\nlisten = "x"',
     'the file smtpd: unknown key (the keys of the file are gateway, smtp, pop3, web, '
     'results, line, accounts)'),
    ('gateway = 1', '[gateway]: 1 is not a table'),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[m.split(":")[0] for _, m in ERRORS])
def test_each_key_is_checked_with_one_line(text, message):
    assert error(text) == message


@pytest.mark.parametrize("behaviour", ["answer", "busy", "no-answer", "not-fax", "noisy:12",
                                       "hangup-after:2"])
def test_the_behaviours_of_the_simulated_network(behaviour):
    assert parse(f'[line.numbers]\n"0921234567" = "{behaviour}"').line.numbers == \
        {"0921234567": behaviour}


@pytest.mark.parametrize("behaviour", ["ring", "noisy:loud", "hangup-after:", "answer:1", 7])
def test_a_wrong_behaviour_names_the_number(behaviour):
    value = f'"{behaviour}"' if isinstance(behaviour, str) else behaviour
    from faxengine.gateway.lines import parse_behaviour

    with pytest.raises(GatewayConfigError) as why:
        parse_behaviour(behaviour)
    assert error(f'[line.numbers]\n"0921234567" = {value}') == \
        f'[line.numbers] "0921234567": {why.value}'


def test_load_config_names_the_file(tmp_path):
    f = tmp_path / "gw.toml"
    f.write_text('[smtp]\nlisten = "127.0.0.1"\n', encoding="utf-8")
    with pytest.raises(GatewayConfigError) as info:
        load_config(f)
    assert str(info.value) == f'{f}: [smtp] listen: "127.0.0.1" is not HOST:PORT (give e.g. ' \
                              f'"127.0.0.1:2525")'


def test_a_file_that_is_not_toml_or_not_there(tmp_path):
    f = tmp_path / "gw.toml"
    f.write_text("[gateway\n", encoding="utf-8")
    with pytest.raises(GatewayConfigError, match=r"gw.toml: not TOML: "):
        load_config(f)
    f.write_bytes(b"\xff\xfe[gateway]")
    with pytest.raises(GatewayConfigError) as info:
        load_config(f)
    assert str(info.value) == f"{f}: not UTF-8 text (octet 0); save the file as UTF-8"
    with pytest.raises(GatewayConfigError) as info:
        load_config(tmp_path / "none.toml")
    assert str(info.value) == f"{tmp_path / 'none.toml'}: cannot read the configuration " \
                              f"(No such file or directory); give --config FILE"
    with pytest.raises(GatewayConfigError, match="cannot read the configuration"):
        load_config(tmp_path)


def test_check_prints_what_it_would_listen_on(tmp_path, capsys):
    from faxengine.cli import main

    f = tmp_path / "gw.toml"
    f.write_text('[smtp]\nlisten = "127.0.0.1:0"\n[pop3]\nlisten = ""\n[gateway]\n'
                 'data_dir = "d"\n', encoding="utf-8")
    assert main(["gateway", "--config", str(f), "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{f}: ok"
    assert out[1] == "  smtp   127.0.0.1:0: requests to <number>@cl1.faximo.jp, at most " \
                     "20000000 octets"
    assert out[2] == "  pop3   off"
    assert out[3] == "  web    http://127.0.0.1:8080/"
    assert out[4] == f"  data   {tmp_path / 'd'}"
    assert not (tmp_path / "d").exists()            # --check creates nothing


def test_check_of_a_wrong_file_is_one_line_and_status_2(tmp_path, capsys):
    from faxengine.cli import main

    f = tmp_path / "gw.toml"
    f.write_text('[[accounts]]\nname = "a"\npassword = "x"\nretries = 9\n', encoding="utf-8")
    assert main(["gateway", "--config", str(f), "--check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f'faxengine gateway: {f}: [[accounts]] "a" retries: 9 is outside ' \
                           f'0..3\n'
    assert main(["gateway"]) == 2                   # --config is required
    assert "--config" in capsys.readouterr().err
