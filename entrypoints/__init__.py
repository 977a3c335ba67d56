"""Composition root: builds the app per profile and hosts the `customers` CLI."""
