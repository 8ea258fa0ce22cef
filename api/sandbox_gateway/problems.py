"""RFC 9457 problem details. Domain code raises domain errors; the handlers here turn every error into
``application/problem+json`` with a stable machine ``code`` and never a stack trace."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.errors import SandboxError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("sandbox.api")


class Problem(Exception):
    """An error the gateway itself decides (authentication, scope, unknown resources)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extra = extra


#: What every problem `code` looks like: UPPER_SNAKE, letters and digits.
CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


def problem_code(text: str) -> str:
    """`text` as a machine code: UPPER_SNAKE ("cash token" → CASH_TOKEN, "cross-border transfer" →
    CROSS_BORDER_TRANSFER). Idempotent on a code."""
    return "_".join(re.findall(r"[A-Z0-9]+", text.upper())) or "ERROR"


def problem_document(status: int, code: str, title: str, detail: str, *, instance: str, **extra: Any) -> dict[str, Any]:
    """The RFC 9457 document of a refusal; `code` is made UPPER_SNAKE if it is not already."""
    code = problem_code(code)
    return {
        "type": f"https://sandbox.example/problems/{code.lower().replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
        **extra,
    }


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_document(status, code, title, detail, instance=request.url.path, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    async def _refused(request: Request, exc: Exception) -> JSONResponse:
        """The one answer to every refusal: each error carries its status (a gateway `Problem`'s own; a
        library error's `refusal`, which for an on-chain revert is its custom error's entry in
        `sandbox.rules`), code, title, sentence and extras."""
        if isinstance(exc, Problem):
            return problem_response(request, exc.status, exc.code, exc.title, exc.detail, exc.headers, **exc.extra)
        assert isinstance(exc, SandboxError)
        if exc.code == "SANDBOX_ERROR":
            log.warning("sandbox error on %s: %s", request.url.path, exc)
        return problem_response(request, exc.refusal.status, exc.code, exc.title, exc.detail, **exc.details())

    app.add_exception_handler(Problem, _refused)
    app.add_exception_handler(SandboxError, _refused)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        where = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
        # Numbers past what the contracts hold get a code of their own (schemas' bounded integer types).
        too_large = all(e.get("type") == "amount_too_large" for e in exc.errors())
        return problem_response(
            request,
            422,
            "AMOUNT_TOO_LARGE" if too_large and errors else "VALIDATION_FAILED",
            "Invalid request",
            f"The request is not valid: {where}",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "MALFORMED_BODY", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(
            exc.status_code, f"HTTP_{exc.status_code}"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(request, exc.status_code, code, str(exc.detail), str(exc.detail), headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal_error(request)

    # Starlette hands an `Exception` handler to its outermost middleware, which answers and then
    # re-raises to the server: uvicorn closes the connection. Catch unexpected errors inside instead.
    app.add_middleware(_AnswerUnexpectedErrors)


def _internal_error(request: Request) -> JSONResponse:
    log.exception("unexpected error on %s", request.url.path)
    return problem_response(
        request,
        500,
        "INTERNAL_ERROR",
        "Internal error",
        "The sandbox failed to handle this request; see its log.",
    )


class _AnswerUnexpectedErrors:
    """Answers an error no handler took with a 500 problem, as a normal response: the client keeps its
    keep-alive connection (an error after the answer has started is left to the server)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            await _internal_error(Request(scope))(scope, receive, send)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path, for a 405's ``Allow``. Each is
    tried against the routes: Starlette names only the methods of the first route that matches the path,
    and a path such as /securities has a route per method."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine code: a rule's name for on-chain refusals.")
    instance: str | None = None
    error: str | None = Field(None, description="The custom error the chain reverted with, if any.")
    arguments: dict[str, Any] | None = None
    rule_code: int | None = Field(None, description="ERC-1404 restriction code of the rule that refused.")
    tx_hash: str | None = None
    errors: list[dict[str, Any]] | None = None


#: The name of the one problem schema in the OpenAPI document's components; every error response
#: references it.
PROBLEM_SCHEMA = "Problem"
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: What each documented error status means in this API.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request body is not well-formed JSON (MALFORMED_BODY).",
    401: "No API key, or one this sandbox does not know (AUTHENTICATION_REQUIRED, INVALID_API_KEY).",
    403: "Your role or scope does not allow this (ROLE_NOT_ALLOWED, OUT_OF_SCOPE), or the chain refused it "
    "as a question of authority.",
    404: "No such resource, or none within your scope (e.g. SECURITY_NOT_FOUND, INVESTOR_NOT_FOUND), or one the "
    "chain does not know.",
    409: "The chain or the sandbox refused the operation under one of its rules (the rule's name is the "
    "code), or a request with the same Idempotency-Key is still running (IDEMPOTENCY_IN_PROGRESS).",
    413: "The request body is larger than the gateway accepts.",
    415: "The request body is not sent as application/json (UNSUPPORTED_MEDIA_TYPE).",
    422: "A parameter or the body is not valid (VALIDATION_FAILED, AS_OF_*), the chain refused arguments that can "
    "never succeed (e.g. DV_P_SAME_PARTY), or an Idempotency-Key is invalid or was used for a different request "
    "(IDEMPOTENCY_KEY_INVALID, IDEMPOTENCY_KEY_REUSED).",
}


def problem_schema_ref() -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}


def problem_doc(description: str) -> dict[str, Any]:
    """An error response for a route's `responses=`, referencing the one `Problem` schema: for what
    `error_statuses` cannot read from the route (e.g. a 404 for a resource named in a query or a body)."""
    return {"description": description, "content": {PROBLEM_JSON: {"schema": problem_schema_ref()}}}


def _with_dependencies(dependant: Dependant) -> list[Dependant]:
    """The route's dependant and every dependency under it."""
    found = [dependant]
    for sub in dependant.dependencies:
        found.extend(_with_dependencies(sub))
    return found


def error_statuses(route: APIRoute) -> list[int]:
    """The error statuses a route can really answer, read from what it declares: an API key (401); a
    role restriction, a resource in its path or a change of state (403); a resource in its path (404); a
    change of state (409: refused under a rule, and the Idempotency-Key outcomes 409/422); a body (400,
    413, 415, 422); parameters (422)."""
    everything = _with_dependencies(route.dependant)
    calls = [d.call for d in everything[1:]]
    authenticated = any(isinstance(call, SecurityBase) for call in calls)
    role_restricted = any(getattr(call, "__qualname__", "").startswith("require_roles.") for call in calls)
    changes_state = bool((route.methods or set()) & STATE_CHANGING_METHODS)
    has_path = any(d.path_params for d in everything)
    has_body = any(d.body_params for d in everything)
    has_params = any(d.query_params or d.header_params or d.path_params for d in everything)
    statuses: set[int] = set()
    if authenticated:
        statuses.add(401)
        if role_restricted or has_path or changes_state:
            statuses.add(403)
    if has_path:
        statuses.add(404)
    if changes_state:
        statuses.update({409, 422})
    if has_body:
        statuses.update({400, 413, 415, 422})
    if has_params:
        statuses.add(422)
    return sorted(statuses)


def document_problems(schema: dict[str, Any], routes: list[APIRoute]) -> None:
    """Rewrites a generated OpenAPI document in place (idempotent): one `Problem` component, and on each
    operation the error responses its route can give (`error_statuses`), each referencing it."""
    problem = ProblemDetails.model_json_schema()
    problem["title"] = PROBLEM_SCHEMA  # what generated clients name the model
    schema.setdefault("components", {}).setdefault("schemas", {})[PROBLEM_SCHEMA] = problem
    by_id = {route.unique_id: route for route in routes}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            route = by_id.get(operation.get("operationId", ""))
            if route is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in error_statuses(route):
                # A route's own problem description stays; FastAPI's default 422 (its HTTPValidationError
                # as application/json) is not what this API answers, so it is replaced.
                if PROBLEM_JSON not in responses.get(str(status), {}).get("content", {}):
                    responses[str(status)] = problem_doc(ERROR_DESCRIPTIONS[status])
            operation["responses"] = dict(sorted(responses.items()))
    components = schema["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's, referenced by its 422 only
        others = {name: value for name, value in components.items() if name != unused}
        if f'"#/components/schemas/{unused}"' not in json.dumps([schema.get("paths", {}), others]):
            components.pop(unused, None)
