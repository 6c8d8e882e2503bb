"""faxengine.gateway: the mail-to-fax gateway (shared/spec/mail-gateway.md).

What exists now is its sans-I/O core, which takes octets and time and
returns data; the SMTP and POP3 servers, the renderer, the line drivers, the
store and the web admin come later and build on it (docs/gateway.md):

* ``mail``: a mail (and its SMTP envelope) -> ``Request``, the spec's
  request rules applied (``parse_request``, ``check_sender``).
* ``results``: the result mails of the spec (``result_mail``, ``refusal_mails``).
* ``jobs``: a destination's life cycle 送信待ち -> 送信中 -> 送信完了 / 送信エラー /
  ... as a table, ``Job`` and the account's ``RetryPolicy`` (time passed in).
* ``charsets``: the Japanese mail charsets as mail programs write them.
* ``errors``: ``GatewayError`` and its kinds.
"""
from faxengine.gateway.errors import GatewayConfigError, GatewayError, JobStateError
from faxengine.gateway.jobs import Job, RetryPolicy, detail_no
from faxengine.gateway.mail import Destination, Document, Refusal, Request, check_sender, \
    parse_request
from faxengine.gateway.results import ResultMail, ResultSettings, Templates, refusal_mails, \
    result_mail

__all__ = ["GatewayError", "GatewayConfigError", "JobStateError", "Job", "RetryPolicy",
           "detail_no", "Destination", "Document", "Refusal", "Request", "check_sender",
           "parse_request", "ResultMail", "ResultSettings", "Templates", "refusal_mails",
           "result_mail"]
