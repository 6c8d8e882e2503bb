"""A fax request made from a form (POST /api/faxes) as the mail it stands for.

The REST API sends faxes through the same door as mail: the form's numbers,
subject, optional text and files become an RFC 5322 message From the
account's first registered sender, To ``<number>@<fax domain>`` for each
number, the files attached under their names (RFC 2231 for names that are
not ASCII), and that message goes to the gateway's durable accept path.  So
every rule of the spec (50 destinations, 50 pages, the file types, the
numbers that can be dialled) applies to it as it applies to mail, and the
result comes back the same way: the history, and a result mail unless the
account turned them off.  Pure: the date and Message-ID are arguments.
"""
from __future__ import annotations

import email.policy
import email.utils
import re
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage

__all__ = ["NUMBER_TEXT", "numbers_of", "request_mail"]

_SPLIT = re.compile(r"[\s,;]+")
# what may stand left of the @ (RFC 5322 dot-atom text, of the characters a number
# written by hand has); the mail rules then say whether it can be dialled
NUMBER_TEXT = re.compile(r"[0-9A-Za-z+.()_-]{1,40}")


def numbers_of(fields: Sequence[str]) -> tuple[list[str], list[str]]:
    """The numbers of the form's ``to`` fields, and the items that cannot stand
    in an address at all.  Each field may hold several numbers, separated by
    commas, semicolons or white space.  A number that cannot be dialled (too
    short, a mobile number) is kept: the gateway's rules answer it with
    FAX番号エラー, as they do for mail."""
    good, bad = [], []
    for text in fields:
        for item in _SPLIT.split(text.strip()):
            if item:
                (good if NUMBER_TEXT.fullmatch(item) else bad).append(item)
    return good, bad


def request_mail(*, sender: str, numbers: Sequence[str], fax_domain: str, subject: str,
                 text: str, files: Sequence[tuple[str, bytes]], date: datetime,
                 message_id: str) -> bytes:
    """The request as mail octets (CRLF lines, headers UTF-8 encoded-words).

    Args:
        sender: the From address (a sender registered for the account).
        numbers: the fax numbers, in order.
        subject: the Subject (may be empty).
        text: the body faxed before the files ("" for none: a blank body is not faxed).
        files: (file name, octets) of each attachment.
    """
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(f"{n}@{fax_domain}" for n in numbers)
    msg["Subject"] = subject.replace("\r", " ").replace("\n", " ")
    msg["Date"] = email.utils.format_datetime(date)
    msg["Message-ID"] = message_id
    msg.set_content(text, charset="utf-8")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream",
                           filename=name or "file")
    return msg.as_bytes()
