"""Swagger UI at `/api/docs` from the installed `swagger-ui-bundle-v2` package, never a CDN.

Deployments of a customer database often sit behind a firewall or run offline: a page that
loads its script from a public CDN is blank there. Litestar's Swagger plugin defaults to
jsDelivr for the script, the stylesheet and the favicon; this plugin points all three at a
route of its own that serves the files of the pinned Swagger UI release shipped in the wheel
(the same bytes as the `swagger-ui-dist` npm package, Apache-2.0).
"""

from __future__ import annotations

from functools import cache

from litestar import Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from swagger_ui_bundle import swagger_ui_path

#: The only files served, with their media types (a whitelist: no path ever reaches the disk).
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
#: The release is in the path, so a browser may keep the files for a year.
_CACHE_CONTROL = "public, max-age=31536000, immutable"


@cache
def _asset_bytes(name: str) -> bytes:
    data: bytes = (swagger_ui_path / name).read_bytes()
    return data


class OfflineSwaggerPlugin(SwaggerRenderPlugin):
    """Swagger UI whose page refers only to its own origin."""

    def __init__(self, openapi_path: str = "/api", path: str = "/docs") -> None:
        self.assets_path = f"{path}/{swagger_ui_path.name}"
        base = f"{openapi_path}{self.assets_path}"
        super().__init__(
            path=path,
            js_url=f"{base}/swagger-ui-bundle.js",
            css_url=f"{base}/swagger-ui.css",
            standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{base}/favicon-32x32.png'>",
        )

    def receive_router(self, router: Router) -> None:
        """Add the asset route beside the page (public like the page itself)."""
        super().receive_router(router)

        @get(
            f"{self.assets_path}/{{name:str}}",
            include_in_schema=False,
            sync_to_thread=False,
            exclude_from_auth=True,
        )
        def swagger_ui_asset(name: FromPath[str]) -> Response[bytes]:
            media_type = ASSETS.get(name)
            if media_type is None:
                raise NotFoundException()
            return Response(
                _asset_bytes(name),
                media_type=media_type,
                headers={"Cache-Control": _CACHE_CONTROL},
            )

        router.register(swagger_ui_asset)
