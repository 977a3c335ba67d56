"""Write-side adapters: the event store (`event_store.CustomersApplication`, the port's
implementation on SQLite or PostgreSQL) and the SQL tables beside the events — customer keys,
phone rows, the hash chain — written in the events' transactions."""
