"""Projections anyone can add: the interface (`api`), the batch fold that makes them
idempotent (`fold`), and their generational document stores (`sqlite_store`, `mongo_store`).
The adapters are not imported here, so importing this package opens nothing."""
