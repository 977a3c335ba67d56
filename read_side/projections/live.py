"""The added projections' live stores, by name, as the HTTP layer reads them."""

from __future__ import annotations

from collections.abc import Mapping

from read_side.generations import ActiveGeneration
from read_side.projections.store import ProjectionStore


class LiveProjections:
    """Each added projection's active generation under its name (a class rather than a bare
    mapping, so that it can be a typed dependency that Litestar hands over as it is)."""

    def __init__(self, stores: Mapping[str, ActiveGeneration[ProjectionStore]]) -> None:
        self._stores = dict(stores)

    def get(self, name: str) -> ActiveGeneration[ProjectionStore] | None:
        """The live store of projection `name`, or None when no such projection runs."""
        return self._stores.get(name)
