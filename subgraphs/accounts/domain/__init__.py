"""The accounts domain: the account model and the rules its fields obey (standard library only)."""
