"""The SSE framing of subgraph subscriptions (``shopkit.sse``): LF line endings, because the
gateway's executor splits events on a blank line written ``\\n\\n`` and never saw the end of a
CRLF event (the client's stream completed empty)."""

from __future__ import annotations

import pytest

from shopkit.sse import GatewaySSETransport


def test_events_and_heartbeats_end_with_a_blank_lf_line():
    transport = GatewaySSETransport()
    event = transport.encode_next({"data": {"x": 1}}, lambda value: '{"data":{"x":1}}')
    assert event == 'event: next\ndata: {"data":{"x":1}}\n\n'
    assert transport.encode_complete() == "event: complete\ndata: \n\n"
    assert transport.heartbeat_message(str) == ": ping\n\n"
    assert "\r" not in event + transport.encode_complete()


def test_data_with_a_newline_is_refused_rather_than_reframed():
    with pytest.raises(ValueError, match="must not contain newlines"):
        GatewaySSETransport().encode_event("next", '{"a":\n1}')
