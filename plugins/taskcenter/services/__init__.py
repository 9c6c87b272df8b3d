"""Application services: one per resource, called by the HTTP layer; they raise domain errors."""
