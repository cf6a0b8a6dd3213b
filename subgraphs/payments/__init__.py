"""The payments subgraph: charges orders through the card processor, refunds them, and keeps
an append-only ledger of money movements in MySQL (SQLite when embedded)."""
