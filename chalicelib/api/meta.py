"""Liveness, the generated OpenAPI document and the API reference page (`/docs`)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import Call, error_body, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api import models
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")

bp = Blueprint(__name__)

# The reference page is Swagger UI rendering /openapi.json. Its assets come from the
# pinned swagger-ui-bundle-v2 package and are served by this app: no CDN, so the page
# works offline and on a private API. Only these files are served.
ASSETS = {
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
# Relative URLs: behind API Gateway the page lives under the stage (`/api/docs`).
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>slaguard API reference</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true
    });
  </script>
</body>
</html>
"""
STATIC_HEADERS: dict[str, str | list[str]] = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=3600",
}


@route(bp, "/health", "GET", response=lambda: models.Health, summary="Liveness, no auth")
def health(call: Call) -> dict[str, Any]:
    return {"status": "ok"}


@route(bp, "/openapi.json", "GET", summary="This OpenAPI 3 document")
def openapi(call: Call) -> dict[str, Any]:
    # Deferred for cold start: the JSON Schema generator is needed only here.
    from chalicelib.api.openapi import document

    return document()


@functools.cache
def asset(name: str) -> str:
    """One Swagger UI file, read on first request (a cold start never pays for it)."""
    vendor = resources.files("swagger_ui_bundle") / "vendor"  # one swagger-ui-<version>/
    (folder,) = (p for p in vendor.iterdir() if p.name.startswith("swagger-ui-"))
    return (folder / name).read_text(encoding="utf-8")


# Not JSON operations, so not declared with `route` (and not in /openapi.json).
@bp.route("/docs", methods=["GET"])
def docs_page() -> Response:
    # `/docs/` reaches this route too, where the page's relative URLs would miss:
    # send it to `/docs` (relative, so the stage prefix holds).
    if str((bp.current_request.context or {}).get("path", "")).endswith("/"):
        return Response(body="", status_code=301, headers={**STATIC_HEADERS, "Location": "../docs"})
    return Response(
        body=PAGE,
        status_code=200,
        headers={**STATIC_HEADERS, "Content-Type": "text/html; charset=utf-8"},
    )


@bp.route("/docs/{name}", methods=["GET"])
def docs_asset(name: str) -> Response:
    content_type = ASSETS.get(name)
    if content_type is None:
        return Response(
            body=error_body("not_found", f"no such file of the reference page: {name}"),
            status_code=404,
            headers={"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"},
        )
    return Response(
        body=asset(name), status_code=200, headers={**STATIC_HEADERS, "Content-Type": content_type}
    )
