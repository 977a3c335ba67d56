"""What the segment reads, the sweep and the relay need of a membership store, whichever
adapter holds it: the embedded SQLite file (`store.MembershipStore`) or PostgreSQL
(`pg_store.PgMembershipStore`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from read_side.segments.fold import MembershipFold
from read_side.segments.reads import MembershipQueries


class SegmentStore(MembershipFold, MembershipQueries):
    """The fold, the queries and the generation's life (`ProjectionStore`)."""

    if TYPE_CHECKING:

        async def checkpoint(self) -> int: ...

        async def activate(self) -> None: ...

        async def active_generation(self) -> int: ...

        async def active_version(self) -> int | None: ...

        async def generations(self) -> set[int]: ...

        async def ensure_indexes(self) -> None: ...

        async def drop(self) -> None: ...

        async def close(self) -> None: ...
