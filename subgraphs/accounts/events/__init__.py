"""The accounts service's events: JSON Schemas of the ``data`` of each type it produces
(``schemas/<type>.json``). It consumes none."""
