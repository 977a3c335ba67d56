"""The one way a checkpoint is written to MongoDB (view store, added projections, the broker
relay): forward only (`$max`), and under a lease's fence when the writer holds one.

Fenced, the checkpoint document also carries the epoch of the lease it was written under, and
the write matches only a document whose epoch is not above ours: the condition and the write
are one `update_one`. A larger stored epoch makes the upsert try to insert a second document
with the same `_id`, which fails with a duplicate key: the writer lost its lease (`Fenced`).
"""

from __future__ import annotations

from collections.abc import Mapping

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.fencing import Fenced, current_fence
from shared.json_types import JSONObject


async def write_checkpoint(
    collection: AsyncCollection[JSONObject],
    checkpoint_id: str,
    position: int,
    fields: Mapping[str, object],
) -> None:
    """Move checkpoint `checkpoint_id` forward to `position` (with `fields` set on it)."""
    fence = current_fence()
    update: JSONObject = {"$max": {"position": position}, "$set": dict(fields)}
    query: JSONObject = {"_id": checkpoint_id}
    if fence is not None:
        update["$set"]["epoch"] = fence.epoch
        query["$or"] = [{"epoch": {"$exists": False}}, {"epoch": {"$lte": fence.epoch}}]
    try:
        await collection.update_one(query, update, upsert=True)
    except DuplicateKeyError:
        if fence is None:
            raise
        raise Fenced(fence) from None
