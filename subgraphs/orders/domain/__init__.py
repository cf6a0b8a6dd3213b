"""The order model and its rules: pure Python, importing only the standard library and
``shopkit.errors``."""
