"""faxengine.gateway.web: the web admin and the REST API (issue 12).

``create_app(store, *, secret_key, timezone, fax_domain, submit)`` returns
the ASGI application the gateway serves with uvicorn (``[web] listen``):
server-rendered pages (login, 送信履歴 and its CSV, a fax's detail with its
T.30 timeline, settings, accounts) and the API under ``/api``.  See
docs/gateway.md, "Web admin and API".
"""
from faxengine.gateway.web.app import create_app

__all__ = ["create_app"]
