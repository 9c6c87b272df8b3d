"""Request and response models of the vendor API (camelCase on the wire)."""
