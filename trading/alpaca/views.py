"""The /v2/ views: authenticate the key, count the request against the key's rate
limit, call one function, answer with Alpaca's shapes and error bodies."""

import time

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from rushtrade.parsers import BoundedJSONParser
from trading.alpaca import errors, market, portfolio, rate_limit, trading
from trading.alpaca import serializers as s
from trading.alpaca.auth import AlpacaKeyAuthentication, key_account

TAG = "Trading API v2 (Alpaca-compatible)"
DATA_TAG = "Market data v2 (Alpaca-compatible)"
RATE_HEADERS = [
    OpenApiParameter(
        name,
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=True,
        description=text,
    )
    for name, text in (
        ("X-RateLimit-Limit", "Requests allowed per minute for this key (ALPACA_RATE_LIMIT)"),
        ("X-RateLimit-Remaining", "Requests left in the current minute"),
        ("X-RateLimit-Reset", "Unix time when the current minute's count starts again"),
    )
]


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(s.AlpacaErrorSerializer, description=description)


ERRORS = {
    401: _err("Unknown or revoked key: 40110000"),
    429: _err("Over the key's rate limit: 42910000 (see the X-RateLimit-* headers)"),
}


def doc(summary: str, responses: dict | None = None, tag: str = TAG, **kwargs):
    return extend_schema(
        summary=summary,
        tags=[tag],
        responses={**(responses or {}), **ERRORS},
        parameters=RATE_HEADERS + kwargs.pop("parameters", []),
        **kwargs,
    )


def q(name: str, description: str, kind=OpenApiTypes.STR) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description)


class AlpacaView(APIView):
    authentication_classes = [AlpacaKeyAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes: list = []

    def get_exception_handler(self):
        return errors.exception_handler

    def check_throttles(self, request):
        limit = rate_limit.consume(request.auth.key_id)
        self.rate_limit = limit
        if limit.exceeded:
            raise exceptions.Throttled(wait=max(limit.reset - int(time.time()), 1))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        limit = getattr(self, "rate_limit", None)
        if limit is not None:
            for name, value in limit.headers().items():
                response[name] = value
        return response

    @property
    def account(self):
        return key_account(self.request)


class AccountView(AlpacaView):
    @doc("The key's account", {200: s.AlpacaAccountSerializer})
    def get(self, request):
        return Response(portfolio.account_summary(self.account))


class PositionsView(AlpacaView):
    @doc("Open positions", {200: s.AlpacaPositionSerializer(many=True)})
    def get(self, request):
        return Response([p.as_dict() for p in portfolio.valued_positions(self.account)])

    @doc(
        "Close every position (market sells)",
        {207: s.AlpacaMultiStatusSerializer(many=True)},
        operation_id="v2_positions_close_all",
        parameters=[q("cancel_orders", "Cancel open orders first", OpenApiTypes.BOOL)],
    )
    def delete(self, request):
        cancel = request.query_params.get("cancel_orders") in ("true", "True", "1")
        results = trading.close_all_positions(self.account, request.user, cancel)
        return Response(results, status=status.HTTP_207_MULTI_STATUS)


class PositionView(AlpacaView):
    @doc("One open position", {200: s.AlpacaPositionSerializer, 404: _err("No such position")})
    def get(self, request, symbol_or_asset_id):
        return Response(portfolio.position(self.account, symbol_or_asset_id).as_dict())

    @doc(
        "Close a position (a market sell)",
        {200: s.AlpacaOrderSerializer, 403: _err("Nothing to sell"), 404: _err("No such position")},
        operation_id="v2_position_close",
        parameters=[
            q("qty", "Shares to sell (default: all available)"),
            q("percentage", "Percent of the position to sell, rounded down to whole shares"),
            q("cancel_orders", "Cancel the symbol's open orders first", OpenApiTypes.BOOL),
        ],
    )
    def delete(self, request, symbol_or_asset_id):
        order = trading.close_position(
            self.account, request.user, symbol_or_asset_id, request.query_params
        )
        return Response(trading.order_dict(order))


ORDER_ERRORS = {
    403: _err("Insufficient buying power or shares, or the account may not trade: 40310000"),
    422: _err("Invalid or unsupported order: 40010001 / 42210000"),
}


class OrdersView(AlpacaView):
    @doc(
        "Place an order",
        {200: s.AlpacaOrderSerializer, **ORDER_ERRORS},
        request=s.AlpacaOrderRequestSerializer,
    )
    def post(self, request):
        order, _created = trading.submit_order(self.account, request.user, request.data)
        return Response(trading.order_dict(order))

    @doc(
        "Orders, newest first",
        {200: s.AlpacaOrderSerializer(many=True)},
        parameters=[
            q("status", "open (default), closed or all"),
            q("limit", "At most this many (50; up to 500)", OpenApiTypes.INT),
            q("after", "Submitted after this time"),
            q("until", "Submitted before this time"),
            q("direction", "desc (default) or asc"),
            q("side", "buy or sell"),
            q("symbols", "Comma-separated symbols"),
            q("nested", "Accepted; there are no multi-leg orders", OpenApiTypes.BOOL),
        ],
    )
    def get(self, request):
        found = trading.list_orders(self.account, request.query_params)
        return Response([trading.order_dict(o) for o in found])

    @doc(
        "Cancel every open order",
        operation_id="v2_orders_cancel_all",
        responses={207: s.AlpacaMultiStatusSerializer(many=True)},
    )
    def delete(self, request):
        results = trading.cancel_all(self.account, request.user)
        return Response(results, status=status.HTTP_207_MULTI_STATUS)


class OrderView(AlpacaView):
    @doc("One order", {200: s.AlpacaOrderSerializer, 404: _err("No such order: 40410000")})
    def get(self, request, order_id):
        return Response(trading.order_dict(trading.get_order(self.account, order_id)))

    @doc(
        "Replace an open order",
        {200: s.AlpacaOrderSerializer, 404: _err("No such order"), **ORDER_ERRORS},
        request=s.AlpacaReplaceRequestSerializer,
    )
    def patch(self, request, order_id):
        new = trading.replace(self.account, request.user, order_id, request.data)
        return Response(trading.order_dict(new))

    @doc(
        "Cancel an open order",
        {204: None, 404: _err("No such order"), 422: _err("Not open: 42210000")},
        operation_id="v2_order_cancel",
    )
    def delete(self, request, order_id):
        trading.cancel(self.account, request.user, order_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderByClientIdView(AlpacaView):
    @doc(
        "One order by its client_order_id",
        {200: s.AlpacaOrderSerializer, 404: _err("No such order")},
        parameters=[q("client_order_id", "Yours")],
    )
    def get(self, request):
        order = trading.get_order_by_client_order_id(
            self.account, request.query_params.get("client_order_id")
        )
        return Response(trading.order_dict(order))


class AssetsView(AlpacaView):
    @doc(
        "Assets (the security master)",
        {200: s.AlpacaAssetSerializer(many=True)},
        parameters=[
            q("status", "active or inactive"),
            q("asset_class", "us_equity"),
            q("exchange", "e.g. NYSE, NASDAQ"),
        ],
    )
    def get(self, request):
        return Response([market.asset_dict(a) for a in market.assets(request.query_params)])


class AssetView(AlpacaView):
    @doc("One asset, by symbol or id", {200: s.AlpacaAssetSerializer, 404: _err("No such asset")})
    def get(self, request, symbol_or_asset_id):
        return Response(market.asset_dict(market.asset(symbol_or_asset_id)))


ACTIVITY_PARAMETERS = [
    q("activity_types", "Comma-separated: FILL, CSD, CSW, FEE, INT, JNLC"),
    q("date", "Only this day (YYYY-MM-DD)"),
    q("after", "After this time"),
    q("until", "Before this time"),
    q("direction", "desc (default) or asc"),
    q("page_size", "At most 100", OpenApiTypes.INT),
    q("page_token", "The id of the last activity of the previous page"),
]


def _activities(view, request, types):
    params = request.query_params
    try:
        size = int(params["page_size"]) if params.get("page_size") else None
    except ValueError:
        raise errors.invalid("page_size must be a whole number") from None
    return Response(
        portfolio.activities(
            view.account,
            activity_types=types,
            date_=params.get("date"),
            after=params.get("after"),
            until=params.get("until"),
            direction=params.get("direction") or "desc",
            page_size=size,
            page_token=params.get("page_token"),
        )
    )


class ActivitiesView(AlpacaView):
    @doc(
        "Account activities: fills and cash movements",
        {200: s.AlpacaActivitySerializer(many=True)},
        parameters=ACTIVITY_PARAMETERS,
    )
    def get(self, request):
        wanted = request.query_params.get("activity_types") or request.query_params.get(
            "activity_type"
        )
        types = [t.strip().upper() for t in wanted.split(",") if t.strip()] if wanted else None
        return _activities(self, request, types)


class ActivitiesOfTypeView(AlpacaView):
    @doc(
        "Account activities of one type",
        {200: s.AlpacaActivitySerializer(many=True)},
        operation_id="v2_account_activities_of_type",
        parameters=ACTIVITY_PARAMETERS[1:],
    )
    def get(self, request, activity_type):
        return _activities(self, request, [activity_type.upper()])


class PortfolioHistoryView(AlpacaView):
    @doc(
        "Account value per day",
        {200: s.AlpacaPortfolioHistorySerializer, 422: _err("Unsupported period or timeframe")},
        parameters=[
            q("period", "e.g. 1W, 1M (default), 3M, 1A"),
            q("timeframe", "1D (the only one)"),
            q("date_end", "Last day (default today)"),
            q("start", "First day (instead of period)"),
            q("end", "Last day"),
        ],
    )
    def get(self, request):
        p = request.query_params
        return Response(
            portfolio.portfolio_history(
                self.account,
                period=p.get("period"),
                timeframe=p.get("timeframe"),
                date_end=p.get("date_end"),
                start=p.get("start"),
                end=p.get("end"),
            )
        )


class ClockView(AlpacaView):
    @doc("The NYSE clock", {200: s.AlpacaClockSerializer})
    def get(self, request):
        return Response(market.clock())


class CalendarView(AlpacaView):
    @doc(
        "NYSE sessions",
        {200: s.AlpacaCalendarDaySerializer(many=True)},
        parameters=[q("start", "First date"), q("end", "Last date")],
    )
    def get(self, request):
        return Response(market.calendar(request.query_params))


SYMBOLS = q("symbols", "Comma-separated symbols (at most 100)")
FEED = q("feed", "Accepted and ignored: one feed")


class LatestQuotesView(AlpacaView):
    @doc(
        "Latest quotes", {200: s.AlpacaLatestQuotesSerializer}, DATA_TAG, parameters=[SYMBOLS, FEED]
    )
    def get(self, request):
        symbols = market.symbols_param(request.query_params.get("symbols"))
        return Response({"quotes": market.latest_quotes(symbols)})


class LatestQuoteView(AlpacaView):
    @doc(
        "Latest quote of a symbol",
        {200: s.AlpacaLatestQuoteSerializer},
        DATA_TAG,
        parameters=[FEED],
        operation_id="v2_stock_latest_quote",
    )
    def get(self, request, symbol):
        symbol = market.symbols_param(symbol)[0]
        found = market.latest_quotes([symbol])
        if symbol not in found:
            raise errors.not_found(f"no quote for {symbol}")
        return Response({"symbol": symbol, "quote": found[symbol]})


class LatestTradesView(AlpacaView):
    @doc(
        "Latest trades", {200: s.AlpacaLatestTradesSerializer}, DATA_TAG, parameters=[SYMBOLS, FEED]
    )
    def get(self, request):
        symbols = market.symbols_param(request.query_params.get("symbols"))
        return Response({"trades": market.latest_trades(symbols)})


class LatestTradeView(AlpacaView):
    @doc(
        "Latest trade of a symbol",
        {200: s.AlpacaLatestTradeSerializer},
        DATA_TAG,
        parameters=[FEED],
        operation_id="v2_stock_latest_trade",
    )
    def get(self, request, symbol):
        symbol = market.symbols_param(symbol)[0]
        found = market.latest_trades([symbol])
        if symbol not in found:
            raise errors.not_found(f"no trade for {symbol}")
        return Response({"symbol": symbol, "trade": found[symbol]})


BAR_PARAMETERS = [
    q("timeframe", "1Day (the only one: daily closes are stored)"),
    q("start", "RFC 3339 time or date"),
    q("end", "RFC 3339 time or date"),
    q("limit", "Bars per page (1000; up to 10000)", OpenApiTypes.INT),
    q("page_token", "next_page_token of the previous page"),
    q("sort", "asc (default) or desc"),
    q("adjustment", "Accepted and ignored"),
    FEED,
]


class BarsView(AlpacaView):
    @doc(
        "Daily bars", {200: s.AlpacaBarsSerializer}, DATA_TAG, parameters=[SYMBOLS, *BAR_PARAMETERS]
    )
    def get(self, request):
        symbols = market.symbols_param(request.query_params.get("symbols"))
        found, token = market.bars(symbols, request.query_params)
        return Response({"bars": found, "next_page_token": token})


class SymbolBarsView(AlpacaView):
    @doc(
        "Daily bars of a symbol",
        {200: s.AlpacaSymbolBarsSerializer},
        DATA_TAG,
        parameters=BAR_PARAMETERS,
        operation_id="v2_stock_bars",
    )
    def get(self, request, symbol):
        symbol = market.symbols_param(symbol)[0]
        found, token = market.bars([symbol], request.query_params)
        return Response({"symbol": symbol, "bars": found.get(symbol, []), "next_page_token": token})
