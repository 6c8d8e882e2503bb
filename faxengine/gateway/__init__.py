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

The names below load on first use (so ``python -m faxengine.gateway.jobs``
runs the module once).
"""
from __future__ import annotations

import importlib

# public name -> module that defines it
_EXPORTS = {
    "GatewayError": "errors", "GatewayConfigError": "errors", "JobStateError": "errors",
    "Job": "jobs", "RetryPolicy": "jobs", "detail_no": "jobs",
    "Destination": "mail", "Document": "mail", "Refusal": "mail", "Request": "mail",
    "check_sender": "mail", "parse_request": "mail",
    "ResultMail": "results", "ResultSettings": "results", "Templates": "results",
    "refusal_mails": "results", "result_mail": "results",
    "render_documents": "render", "Rendering": "render", "RenderLimits": "render", "RenderFailure": "render",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'faxengine.gateway' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"faxengine.gateway.{module}"), name)
    globals()[name] = value
    return value
