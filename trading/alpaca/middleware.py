"""Every answer under /v2/ that is an error is Alpaca's JSON body, whatever made it.

The /v2/ views answer with Alpaca's body themselves (`errors.exception_handler`), and an
unknown route meets the catch-all view; this middleware is the net under both: Django's
own error pages (its debug pages under DEBUG, the 400 of a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, an unexpected exception's 500) are HTML, and a trading
program must never have to parse HTML. The status and the headers a client acts on
(Allow, Retry-After, the rate limit's) are kept; Django has already logged the error.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse

from trading.alpaca import errors

PREFIX = "/v2/"
KEPT_HEADERS = (
    "Allow",
    "Retry-After",
    "WWW-Authenticate",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
MESSAGES = {
    400: "request body format is invalid",
    401: "request is not authorized",
    403: "forbidden",
    404: "endpoint not found",
    405: "method not allowed",
    429: "rate limit exceeded",
    500: "internal server error",
}


def is_alpaca_path(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def alpaca_error_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """`response` itself, or Alpaca's body in its place when it is an error that is not JSON."""
    if response.status_code < 400 or not is_alpaca_path(request.path_info):
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    status = response.status_code
    message = MESSAGES.get(status) or (response.reason_phrase or "error").lower()
    replacement = JsonResponse(errors.body(errors.code_for(status), message), status=status)
    for name in KEPT_HEADERS:
        if name in response:
            replacement[name] = response[name]
    return replacement


class AlpacaErrorBodyMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return alpaca_error_response(request, self.get_response(request))

    async def _acall(self, request):
        return alpaca_error_response(request, await self.get_response(request))
