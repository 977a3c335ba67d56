"""Names for the untyped values at the edges, so that `Any` is written, and justified, once."""

from __future__ import annotations

from typing import Any, TypeAlias

#: A JSON object (a request or response body, a read-model document, a BSON document from
#: pymongo, an integration message): keys are strings, values are whatever JSON or BSON holds,
#: checked by the code that reads them (msgspec Structs at the HTTP edge, `evolve` and the
#: domain's value objects inside).
JSONObject: TypeAlias = dict[str, Any]
