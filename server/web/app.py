"""The web application: pages, the REST API under /api/v1, static files, error handling."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server.web import errors
from server.web.api import ROUTERS as API_ROUTERS
from server.web.context import WebContext
from server.web.pages import ROUTERS as PAGE_ROUTERS
from server.web.security import SecurityHeaders
from server.web.templating import STATIC
from server.web.timing import ServerTiming

API_TITLE = "Parc REST API"
API_VERSION = "1"


def create_web_app(ctx: WebContext, *, https: bool) -> FastAPI:
    """The ASGI app serving ``ctx``; ``https`` says whether it is served over TLS."""
    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.parc = ctx
    errors.install(app)
    for router in (*API_ROUTERS, *PAGE_ROUTERS):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders, https=https)
    app.add_middleware(ServerTiming)  # outermost: times everything below it
    return app
