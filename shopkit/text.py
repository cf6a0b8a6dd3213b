"""The one rule for a short free-text field a client sends (a name, an address line).

Accounts' names and the kit's address fields used to carry a copy each of this check; they
share it so that "clean text" means the same everywhere: NFC-normalized and trimmed, no
control characters, within a maximum length, and present when required (blank counts as
missing). Standard library only, so any domain may use it.
"""

from __future__ import annotations

import unicodedata

from shopkit.errors import InvalidInput


def clean_text(
    value: str | None, field: str, label: str, maximum: int, *, required: bool = True
) -> str:
    """``value`` normalized and trimmed ("" for None or blank, when not ``required``), or
    ``InvalidInput`` naming ``field`` and calling it ``label`` in its message."""
    cleaned = unicodedata.normalize("NFC", value or "").strip()
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidInput(f"{label} must not contain control characters.", field=field)
    if required and not cleaned:
        raise InvalidInput(f"{label} is required.", field=field)
    if len(cleaned) > maximum:
        raise InvalidInput(f"{label} must be at most {maximum} characters.", field=field)
    return cleaned
