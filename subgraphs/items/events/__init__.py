"""Events: the JSON Schemas of what items produces and the handlers of what it consumes."""
