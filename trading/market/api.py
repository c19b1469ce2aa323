"""API for market data: quotes."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from rushtrade.errors import ErrorSerializer
from trading.market import market_data

PRICE = {"max_digits": 14, "decimal_places": 4, "coerce_to_string": True}


class QuoteSerializer(serializers.Serializer):
    bid = serializers.DecimalField(**PRICE)
    ask = serializers.DecimalField(**PRICE)
    last = serializers.DecimalField(**PRICE)
    bid_size = serializers.IntegerField()
    ask_size = serializers.IntegerField()
    volume = serializers.IntegerField(help_text="Shares traded in the session so far.")
    timestamp = serializers.DateTimeField()
    market_open = serializers.BooleanField(
        help_text="False outside the regular session: the quote is the last close."
    )


class QuotesView(APIView):
    """Latest quotes (bid, ask, last) of up to 100 symbols."""

    @extend_schema(
        summary="Quotes",
        parameters=[
            OpenApiParameter(
                "symbols",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description="Comma-separated symbols, at most 100, e.g. `AAPL,MSFT`.",
            )
        ],
        responses={
            200: inline_serializer(
                "Quotes", {"quotes": serializers.DictField(child=QuoteSerializer())}
            ),
            400: OpenApiResponse(
                ErrorSerializer,
                description="`symbols` missing (`required`), more than 100 "
                "(`too_many_symbols`) or naming an unknown symbol (`unknown_symbol`).",
            ),
            401: ErrorSerializer,
        },
    )
    def get(self, request):
        quotes = market_data.quotes_for_request(request.query_params.get("symbols"))
        return Response(
            {"quotes": {symbol: QuoteSerializer(quote).data for symbol, quote in quotes.items()}}
        )
