"""The operator console at `/console`: one HTML page and its scripts, served from the package.

The console is a small single-page app in plain JavaScript modules (no framework, no build
step, no CDN): it talks only to the public API with the bearer token the operator gives it,
so it can do nothing a token could not do with curl. The page and its assets are public
(like `/api/docs`); every datum behind them needs the token.

The role table is written into the page from `shared.principal`, so the console offers
exactly what the server would allow, from one source of truth.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from litestar import Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from shared.principal import ROLE_PERMISSIONS

#: The only files served, with their media types (a whitelist: no path ever reaches the disk).
ASSETS = {
    "console.css": "text/css",
    "app.js": "text/javascript",
    "api.js": "text/javascript",
    "dom.js": "text/javascript",
    "forms.js": "text/javascript",
    "search.js": "text/javascript",
    "customer.js": "text/javascript",
    "records.js": "text/javascript",
    "history.js": "text/javascript",
    "audit.js": "text/javascript",
    "billing.js": "text/javascript",
    "loyalty.js": "text/javascript",
    "engagement.js": "text/javascript",
    "timeline.js": "text/javascript",
    "imports.js": "text/javascript",
    "duplicates.js": "text/javascript",
    "projections.js": "text/javascript",
    "segments.js": "text/javascript",
    "analytics.js": "text/javascript",
    "chart.js": "text/javascript",
}
#: Only this origin's scripts, styles and API; no inline script, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_PACKAGE = "entrypoints.console_assets"


@cache
def _asset(name: str) -> bytes:
    return resources.files(_PACKAGE).joinpath(name).read_bytes()


def role_table() -> str:
    """`{role: [permission, ...]}` as JSON safe inside a `<script type=application/json>`."""
    table = {role.value: sorted(p.value for p in perms) for role, perms in ROLE_PERMISSIONS.items()}
    return json.dumps(table, sort_keys=True).replace("<", "\\u003c")


@cache
def page() -> bytes:
    """index.html with the role table filled in."""
    html = _asset("index.html").decode()
    return html.replace("{{ROLES}}", role_table()).encode()


@get("/", include_in_schema=False, sync_to_thread=False, exclude_from_auth=True)
def console_page() -> Response[bytes]:
    """The console's one page (`/console?q=...` opens with a search)."""
    return Response(page(), media_type="text/html", headers=SECURITY_HEADERS)


@get("/assets/{name:str}", include_in_schema=False, sync_to_thread=False, exclude_from_auth=True)
def console_asset(name: FromPath[str]) -> Response[bytes]:
    """A script or stylesheet of the console, by its name in the whitelist."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundException()
    return Response(_asset(name), media_type=media_type, headers=SECURITY_HEADERS)


def console_router() -> Router:
    """`/console` and `/console/assets/*`."""
    return Router(path="/console", route_handlers=[console_page, console_asset])
