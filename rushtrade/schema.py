"""The OpenAPI schema's error answers (drf-spectacular): every operation documents the
errors it can give, not only its success, so a client (and the schemathesis run in
tests/security/test_schemathesis.py) can rely on the schema for every status.

Which errors an operation can give follows from what it takes and who may call it:
  400  it reads query parameters or a body (one that does not parse, or a bad value)
  401  it needs a login (no token or session, or an expired or revoked token)
  403  it changes something with a login (a session without its CSRF token; the
       account may not do this)
  404  it names an object in its path (none of the caller's has that id)
Other statuses (409 for a state that does not allow the change, 429) are documented by
the operations that give them; an operation's own `extend_schema(responses=...)` wins for
the statuses it names."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from rushtrade.errors import ErrorSerializer

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
DESCRIPTIONS = {
    400: "A parameter or the body is not valid (`fields` names each field).",
    401: "Not signed in: no token or session, or the token has expired or been revoked.",
    403: "Not allowed: a session without its CSRF token, or the account may not do this.",
    404: "Not found among the caller's own objects.",
    409: "The object's state does not allow this now.",
    422: "A parameter or the body is not acceptable.",
    429: "Too many requests.",
}


class AutoSchema(SpectacularAutoSchema):
    error_serializer = ErrorSerializer
    descriptions = DESCRIPTIONS

    def has_path_parameters(self) -> bool:
        return "{" in self.path

    def reads_input(self) -> bool:
        """Whether the operation takes query parameters or a body."""
        if self.method in ("POST", "PUT", "PATCH"):
            return True
        return any(p.get("in") == "query" for p in self._get_parameters())

    def needs_login(self) -> bool:
        return not any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def error_statuses(self) -> list[int]:
        statuses = []
        if self.reads_input():
            statuses.append(400)
        if self.needs_login():
            statuses.append(401)
            if self.method in UNSAFE:
                statuses.append(403)
        if self.has_path_parameters():
            statuses.append(404)
        return statuses

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        for status in self.error_statuses():
            code = str(status)
            if code not in bodies:
                description = self.descriptions[status]
                answer = OpenApiResponse(self.error_serializer, description=description)
                bodies[code] = self._get_response_for_code(answer, code, direction=direction)
        return bodies
