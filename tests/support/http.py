"""HTTP clients for tests whose calls respx answers.

Every ``httpx.AsyncClient()`` loads the CA bundle anew, about 45 ms of CPU: built once per
test, that was a tenth of the fast tier's time. These clients share one TLS context, built
once per session; what they verify is unchanged.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def http_client(**kwargs: Any) -> httpx.AsyncClient:
    """``httpx.AsyncClient(**kwargs)`` with the session's TLS context."""
    return httpx.AsyncClient(verify=tls_context(), **kwargs)
