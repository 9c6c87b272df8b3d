"""Entity catalogs: the embedded file-based default (`FileEntityCatalog`) and how one is chosen."""
