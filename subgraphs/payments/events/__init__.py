"""Payment events: JSON Schemas of what payments produces, handlers of what it consumes."""
