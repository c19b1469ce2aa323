"""/api/v1: the auth token and the signed-in user."""

from axes.helpers import get_client_ip_address
from django.contrib.auth import authenticate
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.users.models import User
from accounts.users.throttling import lockout_response
from rushtrade.errors import ErrorSerializer, error_body


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "date_joined")
        read_only_fields = fields


class TokenView(APIView):
    """Exchange an e-mail and password for an API token (`Authorization: Token <key>`)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            400: OpenApiResponse(
                ErrorSerializer,
                description="Missing fields or wrong e-mail or password (`invalid_credentials`).",
            ),
            403: OpenApiResponse(ErrorSerializer, description="E-mail not verified yet."),
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
            return Response(
                error_body(
                    "invalid_credentials", "Unable to log in with the e-mail and password given."
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        if not user.emailaddress_set.filter(email__iexact=user.email, verified=True).exists():
            return Response(
                error_body(
                    "email_unverified",
                    "Verify your e-mail address first: follow the link we sent you.",
                ),
                status=status.HTTP_403_FORBIDDEN,
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(APIView):
    """The authenticated user."""

    @extend_schema(responses={200: UserSerializer, 401: ErrorSerializer})
    def get(self, request):
        return Response(UserSerializer(request.user).data)


def client_ip(request) -> str | None:
    """The client's address, read as the login throttle reads it (PROXY_COUNT)."""
    return get_client_ip_address(request._request if hasattr(request, "_request") else request)
