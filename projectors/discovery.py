"""Find the projections to run: the built-in ones and those other packages register under the
entry-point group `customers.projections`, each loaded and checked the same way.

An entry point names a projection class (instantiated with no arguments) or an instance. One
that fails to load, does not honour the interface, or takes a name already taken is reported
(`customers projections list`, a warning in the log) and not run: a broken plug-in must not
stop the service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from read_side.projections.api import InvalidProjection, Projection, check_projection
from read_side.projections.store import is_reserved

logger = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "customers.projections"
BUILT_IN = "built-in"


@dataclass(frozen=True)
class Discovered:
    """A projection and where it came from (`built-in` or the distribution that ships it)."""

    projection: Projection
    origin: str


@dataclass(frozen=True)
class Refused:
    """An entry point that could not be used, and why."""

    entry_point: str
    origin: str
    reason: str


@dataclass(frozen=True)
class Catalogue:
    """Every projection found, in a stable order, and every entry point refused."""

    projections: tuple[Discovered, ...]
    refused: tuple[Refused, ...] = ()

    def named(self, name: str) -> Discovered | None:
        """The projection called `name`, if any."""
        return next((d for d in self.projections if d.projection.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the projections found."""
        return tuple(d.projection.name for d in self.projections)


def built_in_projections() -> list[Callable[[], object]]:
    """The factories of the projections the service ships (loaded lazily: importing this
    module imports none of them)."""
    from read_side.analytics.cohorts import CohortsProjection
    from read_side.analytics.overview import OverviewProjection
    from read_side.contactability_projection import ContactabilityProjection
    from read_side.segments.projection import SegmentMembershipProjection
    from read_side.timeline_projection import TimelineProjection

    return [
        OverviewProjection, CohortsProjection, TimelineProjection, ContactabilityProjection,
        SegmentMembershipProjection,
    ]  # fmt: skip


def is_internal(projection: Projection) -> bool:
    """True for a built-in projection that serves the service's own reads (the timeline,
    contactability):
    its documents are per customer, so `GET /projections/{name}/documents` (for analysts)
    does not list them."""
    return bool(getattr(projection, "internal", False))


def discover(
    extra: Iterable[EntryPoint] | None = None,
    built_in: Callable[[], list[Callable[[], object]]] = built_in_projections,
) -> Catalogue:
    """The built-in projections, then those of installed packages, by name within each.
    `extra` replaces the installed entry points (tests)."""
    found: list[Discovered] = []
    refused: list[Refused] = []
    points = list(entry_points(group=ENTRY_POINT_GROUP) if extra is None else extra)
    candidates: list[tuple[str, str, Callable[[], object]]] = [
        (f"{factory.__module__}:{factory.__qualname__}", BUILT_IN, factory)
        for factory in built_in()
    ]
    candidates += [
        (f"{point.name} = {point.value}", _origin(point), point.load)
        for point in sorted(points, key=lambda p: p.name)
    ]
    for label, origin, load in candidates:
        try:
            projection = _load(load, label, origin)
        except Exception as error:
            logger.warning("projection %s from %s refused: %s", label, origin, error)
            refused.append(Refused(label, origin, str(error)[:300]))
            continue
        taken = {d.projection.name for d in found}
        if projection.name in taken:
            reason = f"the name {projection.name!r} is taken"
            logger.warning("projection %s from %s refused: %s", label, origin, reason)
            refused.append(Refused(label, origin, reason))
            continue
        found.append(Discovered(projection, origin))
    return Catalogue(tuple(found), tuple(refused))


def _load(load: Callable[[], object], label: str, origin: str) -> Projection:
    target = load()
    candidate = target() if isinstance(target, type) else target
    projection = check_projection(candidate, f"{label} ({origin})")
    if is_reserved(projection.name):
        raise InvalidProjection(f"the name {projection.name!r} is reserved")
    return projection


def _origin(point: EntryPoint) -> str:
    dist = point.dist
    return f"{dist.name} {dist.version}" if dist is not None else "unknown package"
