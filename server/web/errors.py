"""One table from domain errors to HTTP statuses, and how each is shown.

API routes (``/api/…``) answer JSON ``{"error": {"code", "message"}}``; pages answer an
error page, or a redirect to sign in. Messages are the services' own, written for people and
free of secrets; anything unexpected is logged here and shown only as "internal error".
Denials never tell what exists: a device of another tenant is "not found", like a missing one.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.services.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ParcError,
    PermissionDenied,
    Unauthenticated,
)
from server.web.auth import (
    CsrfRejected,
    PasswordChangeRequired,
    SignInRequired,
    TotpEnrolmentRequired,
)
from server.web.templating import render

log = logging.getLogger(__name__)

STATUS: tuple[tuple[type[ParcError], int, str], ...] = (
    (InvalidArgument, 400, "invalid_argument"),
    (NotFound, 404, "not_found"),
    (AlreadyExists, 409, "already_exists"),
    (Unauthenticated, 401, "unauthenticated"),
    (PermissionDenied, 403, "permission_denied"),
    (FailedPrecondition, 409, "failed_precondition"),
)
CSRF_MESSAGE = "the form has expired or did not come from this site; reload the page and retry"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    if is_api(request):
        headers = {"www-authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(
            {"error": {"code": code, "message": message}}, status_code=status, headers=headers
        )
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParcError)
    for kind, status, code in STATUS:
        if isinstance(exc, kind):
            return error_response(request, status, code, str(exc))
    return _internal(request, exc)


def _internal(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal", "internal error")


def _sign_in(request: Request, _exc: Exception) -> Response:
    if is_api(request):
        return error_response(request, 401, "unauthenticated", "sign in first")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _password_change(request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/account/password", status_code=303)


def _totp_enrolment(request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/account/totp", status_code=303)


def _csrf(request: Request, _exc: Exception) -> Response:
    return error_response(request, 403, "csrf", CSRF_MESSAGE)


def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'][1:]) or 'request'}: {error['msg']}"
        for error in exc.errors()[:5]
    )
    return _invalid_request(request, problems)


def _invalid_request(request: Request, problems: str) -> Response:
    return error_response(request, 422 if is_api(request) else 400, "invalid_request", problems)


def _undecodable_body(exc: StarletteHTTPException) -> bool:
    """FastAPI's answer to a JSON body that is not even text (bytes that are not UTF-8): a
    bare 400, where a body that is text but not JSON is a validation error (422)."""
    return exc.status_code == 400 and isinstance(exc.__cause__, ValueError)


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _undecodable_body(exc):
        # Both are the same mistake, a malformed JSON body: one status, as documented.
        return _invalid_request(request, "body: JSON decode error (not UTF-8 text)")
    message = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
    response = error_response(request, exc.status_code, "http", message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ParcError, _domain)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(PasswordChangeRequired, _password_change)
    app.add_exception_handler(TotpEnrolmentRequired, _totp_enrolment)
    app.add_exception_handler(CsrfRejected, _csrf)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)
