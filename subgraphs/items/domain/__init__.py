"""The catalog and inventory model and its rules (standard library and shopkit.errors only)."""
