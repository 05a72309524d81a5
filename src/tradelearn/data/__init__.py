"""Market data: the canonical event schema, loaders, validation and the local store."""
