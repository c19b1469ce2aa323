"""Alpaca's error body, `{"code": 40010001, "message": "..."}`, and its status codes.

Alpaca's codes are the HTTP status followed by four digits: 40010000 malformed request,
40010001 invalid parameter (sent with 422 as often as with 400), 40110000 not
authorized, 40310000 forbidden (buying power, shares, account), 40410000 not found,
42210000 unprocessable, 42910000 rate limit, 50010000 internal error.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from rushtrade.errors import ServiceError

MALFORMED = 40010000
INVALID = 40010001
UNAUTHORIZED = 40110000
FORBIDDEN = 40310000
NOT_FOUND = 40410000
UNPROCESSABLE = 42210000
RATE_LIMITED = 42910000
INTERNAL = 50010000

# Refusals of our JSON parser (rushtrade/parsers.py) whose message says what to fix.
OUR_PARSE_CODES = ("body_too_large", "body_too_deep", "nul_character")

# Our service error codes that Alpaca answers with 403 (the account may not do this).
FORBIDDEN_CODES = {
    "insufficient_buying_power",
    "insufficient_shares",
    "account_not_active",
    "symbol_not_tradable",
    "symbol_halted",
    "trade_suspended",
}


def code_for(status: int) -> int:
    """Alpaca's generic code of an HTTP status: 404 → 40410000, 500 → 50010000."""
    return status * 100000 + 10000


class AlpacaError(exceptions.APIException):
    """An error answered as Alpaca does: `status` and `{"code", "message", **extra}`."""

    def __init__(self, status: int, code: int, message: str, **extra):
        super().__init__(message)
        self.status_code, self.alpaca_code, self.message, self.extra = status, code, message, extra


def not_found(message: str) -> AlpacaError:
    return AlpacaError(404, NOT_FOUND, message)


def invalid(message: str, status: int = 422) -> AlpacaError:
    return AlpacaError(status, INVALID, message)


def body(code: int, message: str, **extra) -> dict:
    return {"code": code, "message": message, **extra}


def from_service_error(exc: ServiceError) -> tuple[int, dict]:
    codes = {exc.code} | {field.code for field in exc.fields.values()}
    message = "; ".join(f"{name}: {f.message}" for name, f in exc.fields.items()) or exc.message
    forbidden = codes & FORBIDDEN_CODES
    if forbidden:
        reason = next(iter(forbidden))
        return 403, body(FORBIDDEN, _FORBIDDEN_MESSAGES.get(reason, message), detail=message)
    if exc.status == 404:
        return 404, body(NOT_FOUND, message)
    if exc.status == 409:
        return 422, body(UNPROCESSABLE, message)
    return 422, body(INVALID, message)


_FORBIDDEN_MESSAGES = {
    "insufficient_buying_power": "insufficient buying power",
    "insufficient_shares": "insufficient qty available for order",
    "trade_suspended": "trading is suspended on this account (suspend_trade)",
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """The /v2/ views' exception handler (DRF's EXCEPTION_HANDLER for these views)."""
    if isinstance(exc, AlpacaError):
        return Response(body(exc.alpaca_code, exc.message, **exc.extra), status=exc.status_code)
    if isinstance(exc, ServiceError):
        status, data = from_service_error(exc)
        return Response(data, status=status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's handler500 answers (Alpaca's body) and logs
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response.data = body(UNAUTHORIZED, "request is not authorized")
    elif isinstance(exc, exceptions.Throttled):
        response.data = body(RATE_LIMITED, "rate limit exceeded")
    elif isinstance(exc, exceptions.NotFound):
        response.data = body(NOT_FOUND, "resource not found")
    elif isinstance(exc, exceptions.PermissionDenied):
        response.data = body(FORBIDDEN, "forbidden")
    elif isinstance(exc, exceptions.ParseError):
        detail = str(exc.detail) if exc.get_codes() in OUR_PARSE_CODES else ""
        response.data = body(MALFORMED, detail or "request body format is invalid")
    elif isinstance(exc, exceptions.ValidationError):
        response.status_code = 422
        response.data = body(INVALID, _validation_message(exc.detail))
    else:
        response.data = body(code_for(response.status_code), str(exc.detail))
    return response


def _validation_message(detail, prefix: str = "") -> str:
    if isinstance(detail, dict):
        parts = [_validation_message(v, f"{prefix}{k}") for k, v in detail.items()]
        return "; ".join(p for p in parts if p)
    if isinstance(detail, list):
        return _validation_message(detail[0], prefix) if detail else ""
    return f"{prefix}: {detail}" if prefix else str(detail)


@csrf_exempt
def endpoint_not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under /v2/ that names no endpoint, whatever the method, as Alpaca answers."""
    return JsonResponse(body(NOT_FOUND, "endpoint not found"), status=404)
