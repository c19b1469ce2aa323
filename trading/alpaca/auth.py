"""Authentication of the /v2/ API: the `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY`
headers name an active API key; the key's account is the only one a request reaches."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from accounts.opening.models import Account, AccountHolder


class AlpacaKeyAuthentication(authentication.BaseAuthentication):
    """`request.user` is the key's creator (or the account's primary holder) and
    `request.auth` the `ApiKey`."""

    def authenticate(self, request):
        key_id = request.headers.get("APCA-API-KEY-ID", "")
        secret = request.headers.get("APCA-API-SECRET-KEY", "")
        if not key_id and not secret:
            return None  # NotAuthenticated: 401
        key = keys.authenticate(key_id.strip(), secret.strip())
        if key is None:
            raise exceptions.AuthenticationFailed()
        user = (
            key.created_by
            or key.account.holders.filter(accountholder__role=AccountHolder.Role.PRIMARY).first()
        )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed()
        return user, key

    def authenticate_header(self, request) -> str:
        return "APCA-API-KEY-ID"  # makes DRF answer 401, not 403


def key_account(request) -> Account:
    key = request.auth
    assert isinstance(key, ApiKey)
    return key.account


class AlpacaKeyScheme(OpenApiAuthenticationExtension):
    target_class = AlpacaKeyAuthentication
    name = ["AlpacaKeyId", "AlpacaSecretKey"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "APCA-API-KEY-ID"},
            {"type": "apiKey", "in": "header", "name": "APCA-API-SECRET-KEY"},
        ]
