"""DRF authentication by /api/v1 token (accounts/users/tokens.py). Kept apart from the
token services: DRF imports its authentication classes while rushtrade.errors is still
loading, so this module imports nothing of ours at its top."""

import logging

from rest_framework import authentication, exceptions

log = logging.getLogger(__name__)


class ExpiringTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` against ApiToken: expired, revoked or unknown keys
    get 401, and `request.auth` is the ApiToken."""

    def authenticate_credentials(self, key):
        from accounts.users.tokens import authenticate_key

        token = authenticate_key(key)
        if token is None:
            log.warning("API token refused: unknown, expired or revoked (%s…)", key[:8])
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if not token.user.is_active:
            log.warning("API token refused: user %s is inactive", token.user_id)
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token
