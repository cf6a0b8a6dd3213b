"""Server-Sent Events as the gateway reads them: how a subgraph streams a subscription.

Strawberry ends SSE lines with CRLF, which the SSE standard allows, but the gateway's HTTP
transport (graphql-tools' executor-http) splits events on a blank line written "\\n\\n" only:
it never sees an event end, and completes the client's stream with nothing in it. So a
subgraph writes LF line endings. A comment line every ``HEARTBEAT_SECONDS`` keeps the idle
stream alive through proxies and lets either side notice a dead connection.
"""

from __future__ import annotations

from strawberry.http.streaming import SSETransport

HEARTBEAT_SECONDS = 15.0


class GatewaySSETransport(SSETransport):
    def __init__(self, heartbeat_interval: float = HEARTBEAT_SECONDS) -> None:
        super().__init__(heartbeat_interval)

    def encode_event(self, event: str, data: str | None = None) -> str:
        if data and ("\r" in data or "\n" in data):
            raise ValueError("SSE event data must not contain newlines")
        return f"event: {event}\ndata: {data or ''}\n\n"

    def encode_comment(self, comment: str) -> str:
        return f": {comment}\n\n"
