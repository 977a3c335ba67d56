"""Re-export: the classification lives in `shared.transient` (the HTTP layer uses it too)."""

from shared.transient import is_transient

__all__ = ["is_transient"]
