"""The supervisors' console: server-rendered pages (Jinja2 + htmx) served by the gateway under /console, for
regulators, issuers and investors, signed in with their API keys; and the interactive API docs (/docs) from
local files. Every third-party asset is vendored under static/vendor and pinned in static/ASSETS.lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from sandbox.errors import SandboxError
from sandbox_gateway.console.refusals import RefusalMiddleware
from sandbox_gateway.console.routes import SignInRequired, refusal, render, router
from sandbox_gateway.console.sessions import SessionStore
from sandbox_gateway.console.store import ConsoleStore
from sandbox_gateway.problems import Problem
from sandbox_gateway.settings import Settings

STATIC = Path(__file__).parent / "static"
SWAGGER = "/console/static/vendor/swagger-ui-5.36.0"


def mount(app: FastAPI, settings: Settings | None = None) -> None:
    """Adds the console (pages, static files, its sessions, its store of reasons and refusals) and the offline
    /docs to `app`. With `settings.data_dir` the store is a file there (kept across restarts)."""
    settings = settings or Settings()
    app.state.console_sessions = SessionStore()
    app.state.console_terms = {}
    app.state.console_store = ConsoleStore.open(settings.data_dir)
    app.state.console_cookie_secure = settings.cookie_secure
    app.add_middleware(RefusalMiddleware, store=app.state.console_store)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API docs",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("HX-Request") or request.url.path == "/console/events":
            return Response(status_code=401, headers={"HX-Redirect": "/console/login"})
        return RedirectResponse("/console/login", status_code=303)

    api_handlers: dict[type[Exception], Any] = {kind: app.exception_handlers[kind] for kind in (Problem, SandboxError)}

    async def _console_error(request: Request, exc: Exception) -> Response:
        """A console page's refusal as a page (the API's routes keep their problem+json answers)."""
        console = request.url.path.startswith("/console/") and "text/html" in request.headers.get("accept", "")
        if not console or request.headers.get("HX-Request"):
            handler = api_handlers[Problem if isinstance(exc, Problem) else SandboxError]
            answer: JSONResponse = await handler(request, exc)
            return answer
        status, code, sentence = refusal(exc)
        return render(request, "error.html", None, status=status, code=code, sentence=sentence)

    app.add_exception_handler(Problem, _console_error)
    app.add_exception_handler(SandboxError, _console_error)
