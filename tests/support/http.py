"""HTTP clients for tests whose calls respx answers.

Every ``httpx.AsyncClient()`` loads the CA bundle anew, about 45 ms of CPU: built once per
test, that was a tenth of the fast tier's time. These clients share the kit's one TLS
context (``shopkit.app.tls_context``); what they verify is unchanged.
"""

from __future__ import annotations

from typing import Any

import httpx

from shopkit.app import tls_context


def http_client(**kwargs: Any) -> httpx.AsyncClient:
    """``httpx.AsyncClient(**kwargs)`` with the session's TLS context."""
    return httpx.AsyncClient(verify=tls_context(), **kwargs)
