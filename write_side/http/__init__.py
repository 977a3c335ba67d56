"""Litestar command endpoints."""
