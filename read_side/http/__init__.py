"""Litestar query endpoints."""
