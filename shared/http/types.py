"""Names for the framework's open generics, so that `Any` is written, and justified, once."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Request

#: A Litestar request with its user, auth and state types left open: handlers get the caller
#: from the `principal` dependency and the guards, not from `request.user`.
HTTPRequest: TypeAlias = Request[Any, Any, Any]
