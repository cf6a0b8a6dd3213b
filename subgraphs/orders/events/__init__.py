"""Events of the orders service: JSON Schemas of what it emits, handlers of what it consumes."""
