"""Adapters of the shared layer: the PostgreSQL signal channel and the Redis rate limiter
(the rest of `shared/` knows no service driver)."""
