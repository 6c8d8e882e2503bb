"""The gateway's configuration: one TOML file, read and checked at start.

The keys, their meaning and their defaults are pinned in
``shared/spec/gateway-interfaces.md`` (users' files and scripts rely on
them); ``load_config`` reads every one of them into frozen dataclasses, one
per TOML section, and refuses a file it cannot work with by raising
``GatewayConfigError`` with one line that names the file, the key and what is
wrong -- ``gateway.toml: [smtp] listen: "127.0.0.1" is not HOST:PORT (give
e.g. "127.0.0.1:2525")``.  Nothing is opened or bound here: the file is only
read, so ``faxengine gateway --check`` says what is wrong without side
effects.

Written forms (TOML gives strings, numbers and booleans):

* sizes: ``"20MB"``, ``"512KB"``, ``"1GB"`` (powers of 1000, as SMTP SIZE
  counts octets, RFC 1870), ``"1MiB"`` (powers of 1024), or a number of octets;
* durations: ``"60s"``, ``"2m"``, ``"264h"``, ``"500ms"``, ``"1d"``, or a number
  of seconds;
* listen addresses: ``"HOST:PORT"`` (``"[::1]:2525"`` for IPv6; port 0: any
  free port, for tests); ``""`` turns the POP3 server or the web admin off.

Keys beyond the pinned ones (all optional): ``[gateway] stop_timeout``
(how long calls in progress may go on after SIGTERM, default 30 s) and
``name`` (this gateway among several hosts on one PostgreSQL database and
one shared data_dir; default the host name: a restart requeues the calls
the gateway of this name left in progress, so each host needs its own),
``[smtp]``/``[pop3] tls_cert`` and
``tls_key`` (STARTTLS / STLS when given), and ``[results.templates]``
(``success_subject``, ``error_subject``, ``success_body``, ``error_body``,
``refusal_body``, ``footer``: ``faxengine.gateway.results.Templates``).
An unknown key is an error (a misspelt key silently ignored would be a
setting the user believes in and does not have).
"""
from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from faxengine.gateway.errors import GatewayConfigError

try:
    import tomllib
except ImportError:             # Python 3.10: the same parser as a package (gateway extra)
    import tomli as tomllib     # type: ignore[no-redef]
from faxengine.gateway.jobs import RetryPolicy
from faxengine.gateway.results import ResultSettings, Templates

__all__ = ["Config", "GatewaySection", "SmtpSection", "Pop3Section", "WebSection",
           "ResultsSection", "LineSection", "SipSection", "AccountConfig", "Listen",
           "load_config", "parse_config", "parse_size", "parse_duration", "parse_listen"]


@dataclass(frozen=True, slots=True)
class Listen:
    """An address to listen on (port 0: any free port)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class GatewaySection:
    """``[gateway]``."""

    fax_domain: str = "cl1.faximo.jp"
    system_address: str = "fax_sys@cl1.faximo.jp"
    data_dir: Path = Path("var")
    database: str = ""
    lines: int = 4
    timezone: str = "Asia/Tokyo"
    stop_timeout: timedelta = timedelta(seconds=30)
    name: str = ""


@dataclass(frozen=True)
class SmtpSection:
    """``[smtp]``."""

    listen: Listen = Listen("127.0.0.1", 2525)
    max_message_size: int = 20_000_000
    tls_cert: Path | None = None
    tls_key: Path | None = None


@dataclass(frozen=True)
class Pop3Section:
    """``[pop3]``: ``listen`` None = the built-in POP3 server is off."""

    listen: Listen | None = Listen("127.0.0.1", 1110)
    tls_cert: Path | None = None
    tls_key: Path | None = None


@dataclass(frozen=True)
class WebSection:
    """``[web]``: ``listen`` None = the web admin is off; ``secret_key`` "" =
    generated once and kept in data_dir; ``workers`` processes serve HTTP (the
    gateway's own and ``workers - 1`` more, ``web.workers``)."""

    listen: Listen | None = Listen("127.0.0.1", 8080)
    secret_key: str = ""
    workers: int = 1


@dataclass(frozen=True)
class ResultsSection:
    """``[results]``: how result mails are written and delivered."""

    delivery: str = "mailbox"
    smarthost: Listen | None = None
    charset: str = "iso-2022-jp"
    templates: Templates = field(default_factory=Templates)


@dataclass(frozen=True)
class SipSection:
    """``[line.sip]``."""

    uri: str = "sip:{number}@127.0.0.1:5062"
    user: str = ""
    password: str = ""
    registrar: str = ""


@dataclass(frozen=True)
class LineSection:
    """``[line]`` and its ``[line.numbers]`` (number -> behaviour text) and ``[line.sip]``."""

    driver: str = "simulated"
    realtime: bool = False
    numbers: dict[str, str] = field(default_factory=lambda: {"default": "answer"})
    sip: SipSection = field(default_factory=SipSection)


@dataclass(frozen=True)
class AccountConfig:
    """One ``[[accounts]]`` entry."""

    name: str
    password: str
    senders: tuple[str, ...] = ()
    retries: int = 2
    retry_interval: timedelta = timedelta(seconds=60)
    result_mail: bool = True
    role: str = "user"

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(self.retries, self.retry_interval)

    def as_dict(self) -> dict[str, Any]:
        """The entry as the store's ``sync_accounts`` takes it (the TOML's keys)."""
        return {"name": self.name, "password": self.password, "senders": list(self.senders),
                "retries": self.retries,
                "retry_interval": int(self.retry_interval.total_seconds()),
                "result_mail": self.result_mail, "role": self.role}


@dataclass(frozen=True)
class Config:
    """The whole file; ``path`` is where it was read from (None: from text)."""

    gateway: GatewaySection = field(default_factory=GatewaySection)
    smtp: SmtpSection = field(default_factory=SmtpSection)
    pop3: Pop3Section = field(default_factory=Pop3Section)
    web: WebSection = field(default_factory=WebSection)
    results: ResultsSection = field(default_factory=ResultsSection)
    line: LineSection = field(default_factory=LineSection)
    accounts: tuple[AccountConfig, ...] = ()
    path: Path | None = None

    @property
    def result_settings(self) -> ResultSettings:
        """What ``faxengine.gateway.results`` needs to write result mails."""
        return ResultSettings(self.gateway.system_address, self.results.charset,
                              self.gateway.timezone, self.results.templates)

    def describe(self) -> list[str]:
        """What the gateway would do, one line each (``faxengine gateway --check``)."""
        g, line = self.gateway, self.line
        db = _redact(g.database) if g.database else f"sqlite {g.data_dir / 'gateway.sqlite3'}"
        smtp_tls = " (STARTTLS)" if self.smtp.tls_cert else ""
        pop3_tls = " (STLS)" if self.pop3.tls_cert else ""
        out = [f"smtp   {self.smtp.listen}{smtp_tls}: requests to <number>@{g.fax_domain}, "
               f"at most {self.smtp.max_message_size} octets",
               f"pop3   {self.pop3.listen}{pop3_tls}" if self.pop3.listen else "pop3   off",
               (f"web    http://{self.web.listen}/"
                + (f" ({self.web.workers} processes)" if self.web.workers > 1 else ""))
               if self.web.listen else "web    off",
               f"data   {g.data_dir}", f"db     {db}"]
        if line.driver == "simulated":
            pace = "real time" if line.realtime else "as fast as the CPU allows"
            count = len(line.numbers)
            out.append(f"lines  {g.lines} x simulated network ({count} "
                       f"number{'' if count == 1 else 's'}, {pace})")
        else:
            out.append(f"lines  {g.lines} x sip {line.sip.uri}")
        where = f"smarthost {self.results.smarthost}" if self.results.delivery == "smtp" \
            else f"the mailboxes under {g.data_dir / 'mail'}"
        out.append(f"mail   result mails from {g.system_address} ({self.results.charset}) "
                   f"to {where}")
        out.append(f"users  {len(self.accounts)} account(s), "
                   f"{sum(len(a.senders) for a in self.accounts)} sender address(es)")
        return out


def _redact(url: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


# ---- written forms --------------------------------------------------------------

MAX_WEB_WORKERS = 16        # [web] workers: processes serving HTTP
_SIZE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*")
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9,
               "kib": 2**10, "mib": 2**20, "gib": 2**30}
_DURATION = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
# local@domain; either may be UTF-8 (RFC 6532: the SMTP intake speaks SMTPUTF8)
_ATOMS = r"[^@\s<>()\[\],;:\"/\\.]+"
_ADDRESS = re.compile(rf"[^@\s<>()\[\],;:\"]+@{_ATOMS}(?:\.{_ATOMS})*")
_DOMAIN = re.compile(r"(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}"
                     r"[a-z0-9])?)*")


def _show(value: Any) -> str:
    """A value as the TOML file writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float, list, dict)):
        try:
            return json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            pass
    return str(value)


class _Wrong(Exception):
    """Internal: what is wrong with a value (the caller adds the key)."""


def parse_size(value: Any) -> int:
    """Octets from ``"20MB"``, ``"1MiB"`` or a number of octets."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if m is None or float(m.group(1)) <= 0:
        raise _Wrong(f"{_show(value)} is not a size (give e.g. \"20MB\", \"512KB\")")
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])


def parse_duration(value: Any) -> timedelta:
    """A duration from ``"60s"``, ``"2m"``, ``"264h"``, ``"500ms"`` or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    m = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise _Wrong(f"{_show(value)} is not a duration (give e.g. \"60s\", \"2m\", \"1h\")")
    return timedelta(seconds=float(m.group(1)) * _DURATION_UNITS[(m.group(2) or "s").lower()])


def parse_listen(value: Any, *, optional: bool = False) -> Listen | None:
    """``"HOST:PORT"`` (``"[::1]:25"``) -> ``Listen``; ``""`` -> None when ``optional``."""
    if optional and value == "":
        return None
    example = "\"127.0.0.1:2525\"" + (" or \"\" for off" if optional else "")
    if not isinstance(value, str):
        raise _Wrong(f"{_show(value)} is not HOST:PORT (give e.g. {example})")
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^\s:\[\]]+):(\d{1,5})", value.strip())
    if m is None:
        raise _Wrong(f"{_show(value)} is not HOST:PORT (give e.g. {example})")
    host, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    if int(port) > 65535:
        raise _Wrong(f"{_show(value)}: port {int(port)} is above 65535")
    return Listen(host, int(port))


def _address_error(value: Any) -> str | None:
    if not isinstance(value, str) or _ADDRESS.fullmatch(value.strip()) is None:
        return f"{_show(value)} is not a mail address (give e.g. \"sample@edicworks.com\")"
    return None


def _behaviour_error(text: Any) -> str | None:
    """Why ``text`` is not a behaviour of the simulated network (gateway-interfaces.md
    ``[line.numbers]``; ``lines.parse_behaviour`` decides), None if it is one."""
    from faxengine.gateway.lines import parse_behaviour

    try:
        parse_behaviour(text)
    except GatewayConfigError as exc:
        return str(exc)
    return None


# ---- the file -------------------------------------------------------------------

_KEYS: dict[str, tuple[str, ...]] = {
    "gateway": ("fax_domain", "system_address", "data_dir", "database", "lines", "timezone",
                "stop_timeout", "name"),
    "smtp": ("listen", "max_message_size", "tls_cert", "tls_key"),
    "pop3": ("listen", "tls_cert", "tls_key"),
    "web": ("listen", "secret_key", "workers"),
    "results": ("delivery", "smarthost", "charset", "templates"),
    "line": ("driver", "realtime", "numbers", "sip"),
    "line.sip": ("uri", "user", "password", "registrar"),
    "results.templates": ("success_subject", "error_subject", "success_body", "error_body",
                          "refusal_body", "footer"),
    "accounts": ("name", "password", "senders", "retries", "retry_interval", "result_mail",
                 "role"),
}


class _Section:
    """The keys of one table, each taken once; ``where`` is how messages name it."""

    def __init__(self, where: str, table: Any, known: tuple[str, ...]) -> None:
        if not isinstance(table, dict):
            raise GatewayConfigError(f"{where}: {_show(table)} is not a table")
        unknown = [k for k in table if k not in known]
        if unknown:
            raise GatewayConfigError(f"{where} {unknown[0]}: unknown key (the keys of "
                                     f"{where} are {', '.join(known)})")
        self.where, self.table = where, table

    def error(self, key: str, what: str) -> GatewayConfigError:
        return GatewayConfigError(f"{self.where} {key}: {what}")

    def get(self, key: str, default: Any, kind: type | tuple[type, ...] | None = None,
            convert: Any = None) -> Any:
        if key not in self.table:
            return default
        value = self.table[key]
        if kind is not None and (not isinstance(value, kind) or
                                 (isinstance(value, bool) and kind in (int, (int, float)))):
            names = {str: "a string", bool: "true or false", int: "a whole number",
                     list: "a list", dict: "a table"}
            want = names.get(kind, " or ".join(k.__name__ for k in kind)
                             if isinstance(kind, tuple) else kind.__name__)
            raise self.error(key, f"{_show(value)} is not {want}")
        if convert is None:
            return value
        try:
            return convert(value)
        except _Wrong as exc:
            raise self.error(key, str(exc)) from None

    def path(self, key: str, base: Path) -> Path | None:
        value = self.get(key, "", str)
        return None if value == "" else (base / value).resolve()


def load_config(path: str | Path) -> Config:
    """Read and check the gateway's TOML file.

    Raises:
        GatewayConfigError: one line, ``FILE: [section] key: what is wrong``;
            also for a file that cannot be read or is not TOML.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise GatewayConfigError(f"{path}: cannot read the configuration "
                                 f"({exc.strerror or exc}); give --config FILE") from None
    except UnicodeDecodeError as exc:
        raise GatewayConfigError(f"{path}: not UTF-8 text (octet {exc.start}); save the "
                                 f"file as UTF-8") from None
    try:
        return parse_config(text, base=path.resolve().parent, path=path)
    except GatewayConfigError as exc:
        raise GatewayConfigError(f"{path}: {exc}") from None


def parse_config(text: str, *, base: Path, path: Path | None = None) -> Config:
    """Check the TOML ``text``; relative paths (data_dir, certificates) are from ``base``."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GatewayConfigError(f"not TOML: {exc}") from None
    top = _Section("the file", doc, ("gateway", "smtp", "pop3", "web", "results", "line",
                                      "accounts"))
    tables = {name: _Section(f"[{name}]", top.get(name, {}), _KEYS[name])
              for name in ("gateway", "smtp", "pop3", "web", "results", "line")}
    gateway = _gateway(tables["gateway"], base)
    smtp = tables["smtp"]
    smtp_section = SmtpSection(
        smtp.get("listen", SmtpSection.listen, convert=parse_listen),
        smtp.get("max_message_size", SmtpSection.max_message_size, convert=parse_size),
        *_tls(smtp, base))
    pop3 = tables["pop3"]
    pop3_section = Pop3Section(
        pop3.get("listen", Pop3Section.listen,
                 convert=lambda v: parse_listen(v, optional=True)), *_tls(pop3, base))
    web = tables["web"]
    workers = web.get("workers", WebSection.workers, int)
    if not 1 <= workers <= MAX_WEB_WORKERS:
        raise web.error("workers", f"{workers} is outside 1..{MAX_WEB_WORKERS} (the processes "
                                   f"serving the web admin; one per core is enough)")
    web_section = WebSection(
        web.get("listen", WebSection.listen, convert=lambda v: parse_listen(v, optional=True)),
        _secret_key(web), workers)
    results = _results(tables["results"])
    line = _line(tables["line"])
    accounts_raw = top.get("accounts", [], list)
    accounts = _accounts(accounts_raw)
    return Config(gateway, smtp_section, pop3_section, web_section, results, line, accounts,
                  path)


def _gateway(s: _Section, base: Path) -> GatewaySection:
    d = GatewaySection()
    domain = s.get("fax_domain", d.fax_domain, str).strip()
    if not _DOMAIN.fullmatch(domain) or "." not in domain:
        raise s.error("fax_domain", f"{_show(domain)} is not a domain name (give e.g. "
                      f"\"cl1.faximo.jp\")")
    system = s.get("system_address", f"fax_sys@{domain}", str).strip()
    if (wrong := _address_error(system)) is not None:
        raise s.error("system_address", wrong)
    data_dir = s.get("data_dir", str(d.data_dir), str)
    if not data_dir.strip():
        raise s.error("data_dir", "is empty (give a directory, e.g. \"var\")")
    database = s.get("database", "", str).strip()
    if database and not re.match(r"postgresql(\+psycopg)?://", database):
        raise s.error("database", f"{_show(_redact(database))} is not a PostgreSQL URL (give "
                      f"\"\" for SQLite under data_dir, or \"postgresql://user:pw@host/db\")")
    lines = s.get("lines", d.lines, int)
    if not 1 <= lines <= 256:
        raise s.error("lines", f"{lines} is outside 1..256 (the number of calls at once)")
    zone = s.get("timezone", d.timezone, str)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise s.error("timezone", f"{_show(zone)} is not a time zone (give an IANA name "
                      f"such as \"Asia/Tokyo\")") from None
    stop = s.get("stop_timeout", d.stop_timeout, convert=parse_duration)
    name = s.get("name", "", str).strip() or socket.gethostname()
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", name):
        raise s.error("name", f"{_show(name)} is not a name of letters, digits, . _ - "
                      f"(this gateway among the hosts sharing a database)")
    return GatewaySection(domain, system, (base / data_dir).resolve(), database, lines, zone,
                          stop, name)


def _tls(s: _Section, base: Path) -> tuple[Path | None, Path | None]:
    cert, key = s.path("tls_cert", base), s.path("tls_key", base)
    if (cert is None) != (key is None):
        given, missing = ("tls_cert", "tls_key") if cert else ("tls_key", "tls_cert")
        raise s.error(missing, f"is missing: {given} is given, and TLS needs both "
                      f"(a PEM certificate and its key)")
    for name, p in (("tls_cert", cert), ("tls_key", key)):
        if p is not None and not p.is_file():
            raise s.error(name, f"{_show(str(p))}: no such file")
    return cert, key


def _secret_key(s: _Section) -> str:
    key = s.get("secret_key", "", str)
    if key and len(key) < 16:
        raise s.error("secret_key", f"has {len(key)} characters: give 16 or more (it signs the "
                      f"login cookies), or \"\" to have one generated")
    return key


def _results(s: _Section) -> ResultsSection:
    delivery = s.get("delivery", "mailbox", str)
    if delivery not in ("mailbox", "smtp"):
        raise s.error("delivery", f"{_show(delivery)} is not \"mailbox\" or \"smtp\"")
    smarthost = s.get("smarthost", None, convert=lambda v: parse_listen(v, optional=True))
    if delivery == "smtp" and smarthost is None:
        raise s.error("smarthost", "is empty: delivery = \"smtp\" needs a relay "
                      "(give \"host:port\")")
    charset = s.get("charset", "iso-2022-jp", str).lower()
    if charset not in ("iso-2022-jp", "utf-8"):
        raise s.error("charset", f"{_show(charset)} is not \"iso-2022-jp\" or \"utf-8\"")
    t = _Section("[results.templates]", s.get("templates", {}), _KEYS["results.templates"])
    values = {k: t.get(k, None, str) for k in _KEYS["results.templates"] if k in t.table}
    try:
        templates = Templates(**values)
    except GatewayConfigError as exc:       # "results template X names {y}: ..."
        raise GatewayConfigError(f"[results.templates] {exc}") from None
    return ResultsSection(delivery, smarthost, charset, templates)


def _line(s: _Section) -> LineSection:
    driver = s.get("driver", "simulated", str)
    if driver not in ("simulated", "sip"):
        raise s.error("driver", f"{_show(driver)} is not \"simulated\" or \"sip\"")
    realtime = s.get("realtime", False, bool)
    numbers_table = s.get("numbers", {"default": "answer"}, dict)
    numbers: dict[str, str] = {}
    for key, behaviour in numbers_table.items():
        number = key if key == "default" else key.replace("-", "")
        where = f"[line.numbers] {_show(key)}"
        if number != "default" and not (number.isascii() and number.isdigit()):
            raise GatewayConfigError(f"{where}: not a fax number (digits and - only) "
                                     f"or \"default\"")
        if (wrong := _behaviour_error(behaviour)) is not None:
            raise GatewayConfigError(f"{where}: {wrong}")
        numbers[number] = behaviour
    sip = _Section("[line.sip]", s.get("sip", {}), _KEYS["line.sip"])
    d = SipSection()
    uri = sip.get("uri", d.uri, str)
    if driver == "sip" and not (uri.startswith(("sip:", "sips:")) and "{number}" in uri):
        raise sip.error("uri", f"{_show(uri)} is not a SIP URI with {{number}} (give e.g. "
                        f"\"sip:{{number}}@pbx.example:5060\")")
    return LineSection(driver, realtime, numbers,
                       SipSection(uri, sip.get("user", "", str), sip.get("password", "", str),
                                  sip.get("registrar", "", str)))


def _accounts(entries: list[Any]) -> tuple[AccountConfig, ...]:
    accounts: list[AccountConfig] = []
    names: set[str] = set()
    senders: dict[str, str] = {}
    for i, entry in enumerate(entries, 1):
        named = entry.get("name") if isinstance(entry, dict) else None
        where = f"[[accounts]] {_show(named.strip())}" if isinstance(named, str) and \
            named.strip() else f"[[accounts]] #{i}"
        s = _Section(where, entry, _KEYS["accounts"])
        name = s.get("name", "", str).strip()
        if not name:
            raise s.error("name", "is missing (the login name of the web admin)")
        if name in names:
            raise s.error("name", "is given twice; account names are unique")
        names.add(name)
        password = s.get("password", "", str)
        if not password:
            raise s.error("password", "is missing (POP3 and the web admin log in with it)")
        addresses = s.get("senders", [], list)
        for address in addresses:
            if (wrong := _address_error(address)) is not None:
                raise s.error("senders", wrong)
            owner = senders.get(address.strip().lower())
            if owner is not None:
                whose = "this account" if owner == name else f"account {_show(owner)}"
                raise s.error("senders", f"{_show(address)} is registered twice (also for "
                              f"{whose}); a sender address belongs to one account")
            senders[address.strip().lower()] = name
        retries = s.get("retries", 2, int)
        if not 0 <= retries <= 3:
            raise s.error("retries", f"{retries} is outside 0..3")
        interval = s.get("retry_interval", timedelta(seconds=60), convert=parse_duration)
        if interval.total_seconds() != int(interval.total_seconds()):
            raise s.error("retry_interval", f"{_show(s.table['retry_interval'])} is not a "
                          f"whole number of seconds (the store keeps seconds)")
        role = s.get("role", "user", str)
        if role not in ("user", "operator"):
            raise s.error("role", f"{_show(role)} is not \"user\" or \"operator\"")
        accounts.append(AccountConfig(name, password, tuple(a.strip() for a in addresses),
                                      retries, interval, s.get("result_mail", True, bool),
                                      role))
    return tuple(accounts)
