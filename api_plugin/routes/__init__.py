"""One router per resource of the vendor API."""
