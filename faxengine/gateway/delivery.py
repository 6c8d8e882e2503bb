"""Result mail delivery: into the gateway's own mailboxes, or to a smarthost by SMTP.

Both deliverers have one method, ``deliver(mail: ResultMail, accepted=None) ->
None``, which returns once the mail is delivered and raises ``DeliveryError``
otherwise; its ``temporary`` says whether trying again later may help (the
outbox keeps the mail and retries) or not (the outbox gives up on it).
``accepted()``, when given, is called the moment the mail is delivered, before
anything else is done (the outbox marks it delivered there, so that a crash
after it never delivers it again).  Both block: the service calls them through
``asyncio.to_thread``.

* ``MailboxDelivery(store)``: into ``store``'s Maildir of the mail's To
  (``faxengine.gateway.maildir``), keyed by the mail's Message-ID, so that
  delivering again after a crash leaves one message.  A disk problem is
  temporary.
* ``SmarthostDelivery(host, port)``: ``smtplib`` to the relay, with a
  timeout for the connection and every reply.  ``accepted()`` runs right after
  the relay's 250 to the end of DATA, before QUIT (RFC 5321 §4.1.1.4: the mail
  is the relay's from that reply on; RFC 1047: a crash between that reply and
  the mark is a duplicate, so nothing else is waited for in between), and a
  QUIT that fails after it is no failure.  RFC 5321 §4.2.1: a ``4yz``
  reply is a transient failure, ``5yz`` a permanent one; a connection refused,
  dropped or timed out is transient.  The envelope sender is the mail's From
  (the system address) unless ``mail_from`` says otherwise; SMTPUTF8 is asked
  for only when an address needs it.  An address with control characters
  (a CR LF would be a command of its own) or octets that are not UTF-8 is
  refused for good before connecting.
"""
from __future__ import annotations

import email.parser
import email.utils
import hashlib
import re
import smtplib
import ssl

from collections.abc import Callable

from faxengine.gateway.errors import GatewayError
from faxengine.gateway.maildir import MaildirError, MailStore
from faxengine.gateway.results import ResultMail

__all__ = ["DeliveryError", "MailboxDelivery", "SmarthostDelivery", "message_key"]


class DeliveryError(GatewayError):
    """A result mail was not delivered; ``temporary``: trying again later may work."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def _header(raw: bytes, name: str) -> str:
    headers = email.parser.BytesHeaderParser().parsebytes(raw)
    return str(headers.get(name, "") or "").strip()


def message_key(raw: bytes) -> str:
    """What makes a mail the same mail: its Message-ID, else a hash of its octets."""
    return _header(raw, "Message-ID") or "sha256:" + hashlib.sha256(raw).hexdigest()


class MailboxDelivery:
    """Delivers result mails into the Maildirs of ``store`` (see the module's docstring)."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    def deliver(self, mail: ResultMail, accepted: Callable[[], None] | None = None) -> None:
        try:
            self.store.deliver(mail.to, mail.message, message_key(mail.message))
        except MaildirError as exc:
            # an address without a mailbox name will not get one by waiting
            raise DeliveryError(str(exc), temporary=bool(mail.to.strip())) from exc
        if accepted is not None:
            accepted()


class SmarthostDelivery:
    """Delivers result mails through the SMTP relay at ``host:port``.

    Args:
        host, port: the relay.
        timeout: seconds for the connection and for each reply.
        mail_from: the envelope sender; default the address of the mail's From.
        helo: the name this side gives in EHLO (default the sender's domain).
        starttls: a client context: STARTTLS is then required before the mail.
    """

    def __init__(self, host: str, port: int, *, timeout: float = 30.0, mail_from: str = "",
                 helo: str = "", starttls: ssl.SSLContext | None = None) -> None:
        self.host, self.port = host, port
        self.timeout = timeout
        self.mail_from = mail_from
        self.helo = helo
        self.starttls = starttls

    def deliver(self, mail: ResultMail, accepted: Callable[[], None] | None = None) -> None:
        sender = self.mail_from or email.utils.parseaddr(_header(mail.message, "From"))[1]
        options = [] if (sender + mail.to).isascii() else ["SMTPUTF8"]
        where = f"the smarthost {self.host}:{self.port}"
        for role, address in (("recipient", mail.to), ("sender", sender)):
            # RFC 5321 §4.1.2: a path has no control characters; a CR LF in one would
            # be a command of its own (another RCPT TO), and octets that are not
            # UTF-8 (surrogates) made smtplib raise UnicodeEncodeError out of here
            if _UNWRITABLE.search(address) or not _utf8(address):
                raise DeliveryError(f"the {role} address {address!r} cannot be written in "
                                    f"an SMTP command (control characters or octets that are "
                                    f"not UTF-8); correct the address", temporary=False)
        done = False
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout,
                              local_hostname=self.helo or sender.rpartition("@")[2] or "localhost"
                              ) as smtp:
                if self.starttls is not None:
                    smtp.starttls(context=self.starttls)
                smtp.sendmail(sender, [mail.to], mail.message, mail_options=options)
                done = True         # the 250 to the end of DATA came: the relay has it
                if accepted is not None:
                    accepted()
        except (smtplib.SMTPException, OSError) as exc:
            if done:                # only QUIT can fail now: delivered all the same
                return
            raise _failure(where, mail, exc) from exc


def _failure(where: str, mail: ResultMail, exc: Exception) -> DeliveryError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return _refused(where, f"refused {mail.to}", code, text)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _refused(where, "refused the mail", exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryError(f"{where} cannot take this mail: {exc}; the address needs "
                             f"SMTPUTF8 or the relay STARTTLS", temporary=False)
    return DeliveryError(f"{where} cannot be reached: {exc or type(exc).__name__}; "
                         f"will try again", temporary=True)


_UNWRITABLE = re.compile(r"[\x00-\x1f\x7f]")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refused(where: str, what: str, code: int, text: bytes | str) -> DeliveryError:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    temporary = not 500 <= code <= 599       # RFC 5321 §4.2.1: 5yz is permanent
    return DeliveryError(f"{where} {what}: {code} {text}", temporary=temporary)
