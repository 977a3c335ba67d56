"""Per-request work Litestar does that this service does not need, removed once at start-up.

Litestar resolves the dependencies of a handler that have no dependency on each other
concurrently: an anyio task group and one task per dependency, every request. Every provider
here (`entrypoints.dependencies`) is a plain function reading the app's state, so there is
nothing to overlap; the task group alone was ~40 % of the CPU of `GET /customers/{id}` (issue
16 B, profiled with py-spy). Each batch of independent dependencies is split into batches of
one, in the same order, which Litestar resolves with a plain `await`.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute


def resolve_dependencies_in_order(app: Litestar) -> None:
    """Make every HTTP handler resolve its dependencies one after another (a later batch only
    depends on earlier ones, so splitting each batch keeps the order valid)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for _handler, model in route.route_handler_map.values():
            model.dependency_batches = [
                {dependency}
                for batch in model.dependency_batches
                for dependency in sorted(batch, key=lambda d: d.key)
            ]
