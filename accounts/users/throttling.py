"""Login throttling (django-axes): which login a failed attempt counts against, and
what a locked-out client is told. One policy for the web login, the admin login and
the API token endpoint."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from rushtrade.errors import API_PREFIXES, error_body


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The e-mail being tried: allauth and the token endpoint pass `email`, the admin
    login form posts `username`, allauth's form posts `login`."""
    for source in (credentials or {}, getattr(request, "POST", {})):
        for key in ("email", "login", "username"):
            value = source.get(key)
            if value:
                return str(value).strip().lower()
    return None


def lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    message = (
        f"Too many failed login attempts. Try again in {minutes} minutes, or reset your password."
    )
    if request.path.startswith(API_PREFIXES):
        response = JsonResponse(error_body("too_many_attempts", message), status=429)
    else:
        response = render(request, "users/lockout.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
