"""API for an account's money: balances, bank links, transfers, activity."""

import logging

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.money import funding, ledger
from accounts.money.models import BankAccountType, BankLink, Posting, Transfer, TransferDirection
from accounts.opening.models import Account
from accounts.opening.ownership import owned_account
from accounts.users.sign_in import has_two_factor
from rushtrade.errors import ErrorSerializer, FieldError, ServiceError

log = logging.getLogger(__name__)

MONEY = {"max_digits": 18, "decimal_places": 2, "coerce_to_string": True}
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid fields, named in `fields`."),
    404: OpenApiResponse(ErrorSerializer, description="No such account of yours."),
    409: OpenApiResponse(ErrorSerializer, description="Conflicts with the current state."),
}


def own_account(request, account_number: str) -> Account:
    return owned_account(request.user, account_number)


class BalancesSerializer(serializers.Serializer):
    cash = serializers.DecimalField(**MONEY)
    settled_cash = serializers.DecimalField(**MONEY)
    unsettled_cash = serializers.DecimalField(**MONEY)
    holds = serializers.DecimalField(**MONEY)
    withdrawable = serializers.DecimalField(**MONEY)
    buying_power = serializers.DecimalField(**MONEY)
    long_market_value = serializers.DecimalField(**MONEY)
    equity = serializers.DecimalField(**MONEY)


class BalancesView(APIView):
    @extend_schema(
        summary="Balances of one of your accounts",
        responses={200: BalancesSerializer, 404: ERRORS[404]},
    )
    def get(self, request, account_number):
        account = own_account(request, account_number)
        return Response(BalancesSerializer(ledger.account_balances(account)).data)


class BankLinkSerializer(serializers.ModelSerializer):
    bank_account_number = serializers.CharField(write_only=True, max_length=40)
    bank_account_masked = serializers.CharField(source="masked_number", read_only=True)
    bank_account_type = serializers.ChoiceField(choices=BankAccountType.choices)

    class Meta:
        model = BankLink
        fields = (
            "id",
            "nickname",
            "routing_number",
            "bank_account_number",
            "bank_account_masked",
            "bank_account_type",
            "active",
            "created_at",
        )
        read_only_fields = ("id", "active", "created_at")
        extra_kwargs = {"routing_number": {"validators": []}}


class TransferSerializer(serializers.ModelSerializer):
    amount = serializers.CharField(help_text='Dollars and cents as a string, e.g. "250.00".')
    bank_link = serializers.IntegerField(source="bank_link_id")
    direction = serializers.ChoiceField(choices=TransferDirection.choices)
    client_transfer_id = serializers.CharField(required=False, allow_null=True, max_length=64)

    class Meta:
        model = Transfer
        fields = (
            "id",
            "direction",
            "amount",
            "status",
            "bank_link",
            "client_transfer_id",
            "reason",
            "requested_at",
            "submitted_at",
            "completed_at",
        )
        read_only_fields = (
            "id",
            "status",
            "reason",
            "requested_at",
            "submitted_at",
            "completed_at",
        )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["amount"] = f"{instance.amount:.2f}"
        return data


class ActivitySerializer(serializers.ModelSerializer):
    activity_type = serializers.CharField(source="entry.kind")
    description = serializers.CharField(source="entry.description")
    date = serializers.DateTimeField(source="entry.created_at")
    amount = serializers.DecimalField(**MONEY)

    class Meta:
        model = Posting
        fields = ("id", "date", "activity_type", "description", "amount", "settles_on")


class AccountScopedMixin:
    def account(self) -> Account:
        if not hasattr(self, "_account"):
            self._account = own_account(self.request, self.kwargs["account_number"])
        return self._account


@extend_schema_view(
    list=extend_schema(summary="Linked bank accounts"),
    create=extend_schema(
        summary="Link a bank account", responses={201: BankLinkSerializer, **ERRORS}
    ),
    destroy=extend_schema(
        summary="Remove a linked bank account",
        responses={204: None, 404: ERRORS[404], 409: ERRORS[409]},
    ),
)
class BankLinkViewSet(
    AccountScopedMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = BankLinkSerializer
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BankLink.objects.none()
        return self.account().bank_links.filter(active=True)

    def perform_create(self, serializer):
        serializer.instance = funding.link_bank(
            self.account(), self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        funding.remove_bank_link(instance, self.request.user)


class TransferPagination(CursorPagination):
    ordering = ("-requested_at", "-id")
    page_size = 50


@extend_schema_view(
    list=extend_schema(summary="Transfers of one of your accounts"),
    retrieve=extend_schema(summary="One transfer"),
    create=extend_schema(
        summary="Request a deposit or a withdrawal",
        responses={201: TransferSerializer, 200: TransferSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Cancel a transfer not yet sent to the bank",
        responses={200: TransferSerializer, **ERRORS},
    ),
)
class TransferViewSet(
    AccountScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TransferSerializer
    pagination_class = TransferPagination
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Transfer.objects.none()
        return self.account().transfers.all()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if has_two_factor(request.user) and funding.withdrawal_needs_step_up(
            self.account(), data["direction"], data["bank_link_id"]
        ):
            log.warning("API withdrawal to a new bank refused: user %s has 2FA", request.user.pk)
            raise ServiceError(
                "step_up_required",
                f"Money goes to a bank linked in the last {settings.NEW_BANK_LINK_DAYS} days only "
                "from the website, where we confirm it is you with your second factor.",
                {"bank_link": FieldError("step_up_required", "This bank was linked recently.")},
                status=403,
            )
        transfer, created = funding.request_transfer(
            self.account(),
            request.user,
            direction=data["direction"],
            amount=data["amount"],
            bank_link_id=data["bank_link_id"],
            client_transfer_id=data.get("client_transfer_id"),
        )
        return Response(
            self.get_serializer(transfer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def destroy(self, request, *args, **kwargs):
        transfer = funding.cancel_transfer(self.get_object(), request.user)
        return Response(self.get_serializer(transfer).data)


class ActivityPagination(CursorPagination):
    ordering = "-id"
    page_size = 100


@extend_schema_view(list=extend_schema(summary="Every movement of cash, newest first"))
class ActivityViewSet(AccountScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ActivitySerializer
    pagination_class = ActivityPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Posting.objects.none()
        return ledger.cash_postings(self.account())
