"""One error body for the whole API: {"code": ..., "message": ..., "fields": {...}}.

`code` is stable and machine-readable, `message` is for people, and `fields` names
each field that is wrong with its own code and message (nested fields as dotted
paths, list items by index).
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIXES = ("/api/",)


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field: a stable `code` and a `message` for people."""

    code: str
    message: str


class ServiceError(Exception):
    """An error a user caused, raised by a service function: a stable `code`, a
    `message`, the `fields` it concerns ({name: object with .code and .message}) and
    the HTTP status an API answers with."""

    def __init__(self, code: str, message: str, fields: dict | None = None, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.fields, self.status = code, message, fields or {}, status

    def as_body(self) -> dict[str, Any]:
        fields = {
            name: {"code": err.code, "message": err.message} for name, err in self.fields.items()
        }
        return error_body(self.code, self.message, fields)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


def _flatten(detail: Any, prefix: str, out: dict[str, dict[str, str]]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            _flatten(value, name, out)
    elif isinstance(detail, list):
        if detail and all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            first = detail[0]
            out.setdefault(prefix, {"code": first.code, "message": str(first)})
        else:
            for index, item in enumerate(detail):
                if item:
                    _flatten(item, f"{prefix}.{index}" if prefix else str(index), out)
    elif isinstance(detail, exceptions.ErrorDetail):
        out.setdefault(prefix, {"code": detail.code, "message": str(detail)})


def validation_error_body(detail: Any) -> dict[str, Any]:
    fields: dict[str, dict[str, str]] = {}
    _flatten(detail, "", fields)
    general = fields.pop("non_field_errors", None) or fields.pop("", None)
    if general and not fields:
        return error_body(general["code"], general["message"])
    names = ", ".join(fields)
    message = general["message"] if general else f"Please correct these fields: {names}."
    return error_body("invalid", message, fields)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ServiceError):
        return Response(exc.as_body(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response  # an unexpected error: Django's handler500 answers and logs it
    if isinstance(exc, exceptions.ValidationError):
        response.data = validation_error_body(exc.detail)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        message = str(exc.detail) if isinstance(codes, str) else str(exc.default_detail)
        response.data = error_body(code, message)
    return response


def _wants_json(request) -> bool:
    return request.path.startswith(API_PREFIXES)


ALPACA_PREFIX = "/v2/"  # the Alpaca-compatible API answers with Alpaca's body


def _page_or_json(request, status_code: int, code: str, message: str, default_view, **kwargs):
    if request.path.startswith(ALPACA_PREFIX):
        # Alpaca's generic code of a status: 404 -> 40410000, 500 -> 50010000.
        body = {"code": status_code * 100000 + 10000, "message": message}
        return JsonResponse(body, status=status_code)
    if _wants_json(request):
        return JsonResponse(error_body(code, message), status=status_code)
    return default_view(request, **kwargs)


def handler400(request, exception=None):
    from django.views import defaults

    return _page_or_json(
        request, 400, "bad_request", "Bad request.", defaults.bad_request, exception=exception
    )


def handler403(request, exception=None):
    from django.views import defaults

    return _page_or_json(
        request,
        403,
        "permission_denied",
        "You do not have permission to do this.",
        defaults.permission_denied,
        exception=exception,
    )


def handler404(request, exception=None):
    from django.views import defaults

    return _page_or_json(
        request, 404, "not_found", "Not found.", defaults.page_not_found, exception=exception
    )


def handler500(request):
    from django.views import defaults

    return _page_or_json(
        request,
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        "server_error",
        "Something went wrong on our side; it has been logged.",
        defaults.server_error,
    )


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField()
