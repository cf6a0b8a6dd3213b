"""Payment events: JSON Schemas of what payments produces, handlers of what it consumes."""

from pathlib import Path

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
