"""/api/v1: auth tokens and the signed-in user."""

import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.users import tokens
from accounts.users.models import ApiToken, User
from accounts.users.sign_in import has_two_factor, verify_code
from accounts.users.throttling import lockout_response
from rushtrade.errors import ErrorSerializer, error_body

log = logging.getLogger(__name__)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        trim_whitespace=False, style={"input_type": "password"}, max_length=4096
    )
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=60, help_text="Your name for the token"
    )
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="With two-factor sign-in on: the authenticator app's code, or a recovery code",
    )
    expires_in_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.API_TOKEN_LIFETIME_DAYS,
        help_text="Days the token lasts (default and most: API_TOKEN_LIFETIME_DAYS)",
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ("id", "name", "key_prefix", "created_at", "expires_at", "last_used_at")
        read_only_fields = fields


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="The key: shown once, send as `Token <key>`")

    class Meta(ApiTokenSerializer.Meta):
        fields = ("token", *ApiTokenSerializer.Meta.fields)
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "date_joined")
        read_only_fields = fields


class TokenView(APIView):
    """Exchange an e-mail and password for a new API token (`Authorization: Token <key>`),
    or revoke the token this request is made with."""

    def get_authenticators(self):
        # POST is how a client without a token gets one: no authentication, so a stale
        # token in the header does not stand in the way.
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if getattr(self.request, "method", None) == "DELETE":
            return super().get_permissions()
        return [AllowAny()]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: IssuedTokenSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Missing fields or wrong e-mail or password (`invalid_credentials`).",
            ),
            403: OpenApiResponse(
                ErrorSerializer,
                description="E-mail not verified yet, or two-factor code missing or wrong "
                "(`mfa_required`, `mfa_invalid`).",
            ),
            409: OpenApiResponse(ErrorSerializer, description="Too many active tokens."),
            429: OpenApiResponse(ErrorSerializer, description="Too many failed attempts."),
        },
        auth=[],
    )
    def post(self, request):
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        django_request = request._request  # axes flags the lockout on the Django request
        user = authenticate(
            django_request,
            email=form.validated_data["email"],
            password=form.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if user is None:
            log.warning("API token refused: wrong e-mail or password")
            return Response(
                error_body(
                    "invalid_credentials", "Unable to log in with the e-mail and password given."
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        if not user.emailaddress_set.filter(email__iexact=user.email, verified=True).exists():
            log.warning("API token refused: user %s has not verified the e-mail", user.pk)
            return Response(
                error_body(
                    "email_unverified",
                    "Verify your e-mail address first: follow the link we sent you.",
                ),
                status=status.HTTP_403_FORBIDDEN,
            )
        refusal = _second_factor_refusal(django_request, user, form.validated_data.get("code"))
        if refusal is not None:
            return refusal
        token, key = tokens.issue_token(
            user, form.validated_data.get("name", ""), form.validated_data.get("expires_in_days")
        )
        return Response({"token": key, **ApiTokenSerializer(token).data})

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="The token of this request is revoked."),
            400: OpenApiResponse(ErrorSerializer, description="Not signed in with a token."),
            401: ErrorSerializer,
        },
    )
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            return Response(
                error_body(
                    "not_token_authenticated",
                    "Send the token to revoke in the Authorization header (Token <key>).",
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        tokens.revoke_token(request.auth, tokens.RevokeReason.SIGNED_OUT)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _second_factor_refusal(request, user: User, code: str | None) -> Response | None:
    """With two-factor sign-in on, a token needs a code too; a wrong code counts against
    the login like a wrong password (django-axes)."""
    if not has_two_factor(user):
        return None
    if not code:
        log.warning("API token refused: user %s has 2FA and sent no code", user.pk)
        message = (
            "Two-factor sign-in is on for this login: send `code` from your authenticator app."
        )
        return Response(
            error_body("mfa_required", message, {"code": {"code": "required", "message": message}}),
            status=status.HTTP_403_FORBIDDEN,
        )
    if not verify_code(user, code):
        log.warning("API token refused: wrong two-factor code for user %s", user.pk)
        user_login_failed.send(sender=__name__, credentials={"email": user.email}, request=request)
        message = "The two-factor code is not correct."
        return Response(
            error_body("mfa_invalid", message, {"code": {"code": "invalid", "message": message}}),
            status=status.HTTP_403_FORBIDDEN,
        )
    return None


class TokenListView(APIView):
    """The signed-in user's live API tokens (never their keys)."""

    @extend_schema(responses={200: ApiTokenSerializer(many=True), 401: ErrorSerializer})
    def get(self, request):
        return Response(ApiTokenSerializer(tokens.active_tokens(request.user), many=True).data)


class TokenDetailView(APIView):
    """Revoke one of the signed-in user's tokens."""

    @extend_schema(
        request=None,
        responses={204: None, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def delete(self, request, token_id: int):
        token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
        tokens.revoke_token(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The authenticated user."""

    @extend_schema(responses={200: UserSerializer, 401: ErrorSerializer})
    def get(self, request):
        return Response(UserSerializer(request.user).data)


def client_ip(request) -> str | None:
    """The client's address, read as the login throttle reads it (PROXY_COUNT)."""
    return get_client_ip_address(request._request if hasattr(request, "_request") else request)
