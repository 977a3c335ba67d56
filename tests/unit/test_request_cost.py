"""What `entrypoints.request_cost` and the guards remove from every request (issue 16 B)."""

from __future__ import annotations

import inspect

from litestar import Litestar, get
from litestar.di import NamedDependency, Provide
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from entrypoints.request_cost import resolve_dependencies_in_order
from shared.http.auth import requires, requires_any
from shared.principal import Permission


def first() -> str:
    return "a"


def second() -> str:
    return "b"


def joined(first: NamedDependency[str], second: NamedDependency[str]) -> str:
    return first + second


@get("/", sync_to_thread=False)
def handler(
    first: NamedDependency[str], second: NamedDependency[str], joined: NamedDependency[str]
) -> str:
    return f"{first} {second} {joined}"


def test_dependencies_resolve_one_batch_at_a_time_and_still_in_order() -> None:
    dependencies = {
        name: Provide(function, sync_to_thread=False)
        for name, function in (("first", first), ("second", second), ("joined", joined))
    }
    app = Litestar([handler], dependencies=dependencies)
    resolve_dependencies_in_order(app)
    routes = [route for route in app.routes if isinstance(route, HTTPRoute)]
    batches = [
        [dependency.key for dependency in batch]
        for route in routes
        for _, model in route.route_handler_map.values()
        for batch in model.dependency_batches
    ]
    assert batches == [["first"], ["second"], ["joined"]]
    with TestClient(app) as client:
        assert client.get("/").text == "a b ab"


def test_guards_are_coroutines_so_litestar_does_not_hand_them_to_a_thread() -> None:
    assert inspect.iscoroutinefunction(requires(Permission.READ))
    assert inspect.iscoroutinefunction(requires_any(Permission.READ, Permission.AUDIT))
