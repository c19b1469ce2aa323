"""Orders API: /api/v1/accounts/{account_number}/orders[/{id}] — place, list, detail,
cancel (DELETE) and replace (PATCH). Field names follow the trading API vocabulary."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from accounts.money.api import AccountScopedMixin
from rushtrade.errors import ErrorSerializer
from trading.orders import entry
from trading.orders.models import (
    OPEN_STATUSES,
    PLAIN_ORDER_TYPE_CHOICES,
    Order,
    OrderSide,
    TimeInForce,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Refused: the field and reason named."),
    404: OpenApiResponse(ErrorSerializer, description="No such account or order of yours."),
    409: OpenApiResponse(
        ErrorSerializer,
        description="Conflicts with the order's state or a client_order_id used for another order.",
    ),
}


def _price(value) -> str | None:
    """A price as Alpaca writes it: a decimal string without trailing zeros."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class OrderSerializer(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    symbol = serializers.CharField(source="security.symbol", read_only=True)
    type = serializers.CharField(source="order_type", read_only=True)
    qty = serializers.CharField(read_only=True)
    filled_qty = serializers.CharField(read_only=True)
    filled_avg_price = serializers.SerializerMethodField()
    limit_price = serializers.SerializerMethodField()
    stop_price = serializers.SerializerMethodField()
    replaces = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = (
            "id",
            "client_order_id",
            "symbol",
            "side",
            "type",
            "time_in_force",
            "qty",
            "filled_qty",
            "filled_avg_price",
            "limit_price",
            "stop_price",
            "status",
            "reject_reason",
            "notice",
            "created_at",
            "updated_at",
            "submitted_at",
            "filled_at",
            "canceled_at",
            "replaces",
            "replaced_by",
        )
        read_only_fields = fields

    def get_filled_avg_price(self, order) -> str | None:
        return _price(order.filled_avg_price)

    def get_limit_price(self, order) -> str | None:
        return _price(order.limit_price)

    def get_stop_price(self, order) -> str | None:
        return _price(order.stop_price)

    def get_replaces(self, order) -> str | None:
        return str(order.replaces_id) if order.replaces_id else None

    def get_replaced_by(self, order) -> str | None:
        replaced_by = getattr(order, "replaced_by", None)
        return str(replaced_by.pk) if replaced_by else None


class OrderRequestSerializer(serializers.Serializer):
    """Only shapes are checked here (strings in, strings out); the order rules, with
    their field-named errors, are in trading.orders.entry."""

    symbol = serializers.CharField(max_length=12)
    side = serializers.ChoiceField(choices=OrderSide.choices)
    type = serializers.ChoiceField(choices=PLAIN_ORDER_TYPE_CHOICES)
    time_in_force = serializers.ChoiceField(choices=TimeInForce.choices)
    qty = serializers.CharField(max_length=20, help_text='Whole shares, e.g. "10".')
    limit_price = serializers.CharField(max_length=20, required=False, allow_null=True)
    stop_price = serializers.CharField(max_length=20, required=False, allow_null=True)
    client_order_id = serializers.CharField(max_length=128, required=False, allow_null=True)


class ReplaceRequestSerializer(serializers.Serializer):
    qty = serializers.CharField(max_length=20, required=False)
    limit_price = serializers.CharField(max_length=20, required=False, allow_null=True)
    stop_price = serializers.CharField(max_length=20, required=False, allow_null=True)
    time_in_force = serializers.ChoiceField(choices=TimeInForce.choices, required=False)
    client_order_id = serializers.CharField(max_length=128, required=False, allow_null=True)


class OrderPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 100


@extend_schema_view(
    list=extend_schema(summary="Orders of one of your accounts, newest first"),
    retrieve=extend_schema(summary="One order", responses={200: OrderSerializer, **ERRORS}),
)
class OrderViewSet(
    AccountScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = OrderSerializer
    pagination_class = OrderPagination
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        queryset = self.account().orders.select_related("security", "replaced_by")
        wanted = self.request.query_params.get("status")
        if wanted == "open":
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        elif wanted == "closed":
            queryset = queryset.exclude(status__in=OPEN_STATUSES)
        return queryset

    @extend_schema(
        summary="Place an order",
        request=OrderRequestSerializer,
        responses={201: OrderSerializer, 200: OrderSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Limit buy",
                request_only=True,
                value={
                    "symbol": "AAPL",
                    "side": "buy",
                    "type": "limit",
                    "time_in_force": "day",
                    "qty": "10",
                    "limit_price": "185.50",
                    "client_order_id": "my-order-0001",
                },
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = OrderRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        order, created = entry.place_order(
            self.account(),
            request.user,
            symbol=values["symbol"],
            side=values["side"],
            order_type=values["type"],
            time_in_force=values["time_in_force"],
            qty=values["qty"],
            limit_price=values.get("limit_price"),
            stop_price=values.get("stop_price"),
            client_order_id=values.get("client_order_id"),
        )
        return Response(
            OrderSerializer(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Replace an open order (cancel/replace)",
        request=ReplaceRequestSerializer,
        responses={200: OrderSerializer, **ERRORS},
    )
    def partial_update(self, request, *args, **kwargs):
        data = ReplaceRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = entry.replace_order(self.get_object(), request.user, **data.validated_data)
        return Response(OrderSerializer(new).data)

    @extend_schema(
        summary="Cancel an open order", request=None, responses={200: OrderSerializer, **ERRORS}
    )
    def destroy(self, request, *args, **kwargs):
        order = entry.cancel_order(self.get_object(), request.user)
        return Response(OrderSerializer(order).data)
