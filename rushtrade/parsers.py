"""Limits on what a request may carry. A JSON body over API_MAX_JSON_BYTES or nested
deeper than API_MAX_JSON_DEPTH is a 400, not a 500 (Python's parser raises RecursionError
on `[` x 5,000) and not minutes of work. A NUL character in the query string or in a JSON
string is a 400 too: PostgreSQL's text cannot hold one, so it would otherwise fail the
first query that compares with it (Django's forms and DRF's CharField refuse it already;
query parameters and the /v2 bodies read without a serializer did not)."""

import json
import logging

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

log = logging.getLogger(__name__)


class BodyTooLarge(exceptions.ParseError):
    default_code = "body_too_large"


class BodyTooDeep(exceptions.ParseError):
    default_code = "body_too_deep"


class NulCharacter(exceptions.ParseError):
    default_code = "nul_character"


def has_nul(data) -> bool:
    """Whether a NUL character is in any string (key or value) of parsed JSON."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def json_depth_exceeds(data, most: int) -> bool:
    """Whether `data` nests lists and objects deeper than `most` (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > most:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        most_bytes = settings.API_MAX_JSON_BYTES
        request = (parser_context or {}).get("request")
        if stream is None:
            raise exceptions.ParseError("JSON parse error - empty body")
        raw = stream.read(most_bytes + 1)
        if len(raw) > most_bytes:
            path = getattr(request, "path", "")
            log.warning("JSON body refused on %s: over %s bytes", path, most_bytes)
            raise BodyTooLarge(f"The request body is larger than {most_bytes} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_no_constant)
        except RecursionError:
            data = None
            too_deep = True
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        else:
            too_deep = json_depth_exceeds(data, settings.API_MAX_JSON_DEPTH)
        if too_deep:
            path = getattr(request, "path", "")
            log.warning("JSON body refused on %s: nested deeper than allowed", path)
            raise BodyTooDeep(
                f"The request body nests deeper than {settings.API_MAX_JSON_DEPTH} levels."
            )
        if has_nul(data):
            log.warning("JSON body refused on %s: a NUL character", getattr(request, "path", ""))
            raise NulCharacter("The request body contains a NUL character (\\u0000).")
        return data


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class NulInQueryMiddleware(MiddlewareMixin):
    """A query string with a NUL character (`%00`) is answered 400 (Alpaca's body under
    /v2/, the API's under /api/, the error page elsewhere) before any view reads it."""

    def process_request(self, request):
        if not request.META.get("QUERY_STRING") or not any(
            "\x00" in k or "\x00" in v for k, vs in request.GET.lists() for v in vs
        ):
            return None
        # Imported here: rushtrade.errors imports DRF, whose settings import this module.
        from rushtrade.errors import handler400

        log.warning("request refused: a NUL character in the query string of %s", request.path)
        return handler400(request)
