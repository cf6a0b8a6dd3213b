"""The payments domain: payments, refunds, idempotency rules and event payloads.
Standard library and ``shopkit.errors`` only."""
