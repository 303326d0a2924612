"""``/docs``: Swagger UI of the merged OpenAPI document, served entirely by the gateway.

The Swagger UI files come from the ``swagger-ui-py`` wheel (its ``static/`` folder is the
Swagger UI distribution, Apache-2.0, with its LICENSE); nothing is loaded from a CDN, so the
page works without internet and under a Content-Security-Policy of ``'self'``. The start-up
script is a file too (no inline script). Only the files listed here are served.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from kit.errors import NotFound

ASSETS_PATH = "/docs/assets"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".png": "image/png", "LICENSE": "text/plain; charset=utf-8"}
FILES = ("swagger-ui.css", "index.css", "swagger-ui-bundle.js",
         "swagger-ui-standalone-preset.js", "favicon-32x32.png", "favicon-16x16.png",
         "LICENSE")
INIT_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout"
  });
});
"""
PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Seteli API</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<link rel="stylesheet" href="{ASSETS_PATH}/index.css">
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PATH}/swagger-ui-standalone-preset.js"></script>
<script src="{ASSETS_PATH}/init.js"></script>
</body>
</html>
"""


def static_dir() -> Path:
    """The Swagger UI distribution inside the installed ``swagger-ui-py`` package (found
    without importing it: only its files are used)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    folder = static_dir()
    cache = {"Cache-Control": "public, max-age=86400"}

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @router.get(ASSETS_PATH + "/init.js")
    async def init_js() -> Response:
        return Response(INIT_JS, media_type=TYPES[".js"], headers=cache)

    @router.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> Response:
        if name not in FILES:
            raise NotFound("no such file")
        kind = TYPES.get(Path(name).suffix) or TYPES[name]
        return Response((folder / name).read_bytes(), media_type=kind, headers=cache)

    return router
