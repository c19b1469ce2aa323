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
from rushtrade.schema import AutoSchema
from trading.alpaca import (
    configurations,
    data,
    errors,
    market,
    portfolio,
    rate_limit,
    trading,
    watchlists,
)
from trading.alpaca import serializers as s
from trading.alpaca.auth import AlpacaKeyAuthentication, key_account
from trading.market import watchlist as lists

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


def q(name: str, description: str, kind=OpenApiTypes.STR, **schema) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, **schema)


class AlpacaAutoSchema(AutoSchema):
    """Alpaca's errors in the schema (rushtrade/schema.py): a bad path value (a symbol
    that cannot be one) is a 400 like a bad parameter, and Alpaca answers a parameter or
    body it cannot accept with 422 as often as with 400; every call may meet the rate
    limit."""

    error_serializer = s.AlpacaErrorSerializer
    descriptions = {
        400: "Malformed body or parameter: 40010000 / 40010001",
        401: "Unknown or revoked key: 40110000",
        403: "Forbidden: 40310000",
        404: "Not found: 40410000",
        409: "Conflict",
        422: "Invalid or unsupported value: 40010001 / 42210000",
        429: "Over the key's rate limit: 42910000 (see the X-RateLimit-* headers)",
    }

    def error_statuses(self) -> list[int]:
        statuses = [401, 429]
        if self.reads_input() or self.has_path_parameters():
            statuses.append(400)
        if self.reads_input():
            statuses.append(422)
        if self.has_path_parameters():
            statuses.append(404)
        return statuses


class AlpacaView(APIView):
    schema = AlpacaAutoSchema()
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
        return Response(trading.order_dict(order, nested=True))

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
            q("nested", "Legs under their parent order (bracket, oco, oto)", OpenApiTypes.BOOL),
        ],
    )
    def get(self, request):
        found = trading.list_orders(self.account, request.query_params)
        nested = trading.truthy(request.query_params.get("nested"))
        return Response([trading.order_dict(o, nested=nested) for o in found])

    @doc(
        "Cancel every open order",
        operation_id="v2_orders_cancel_all",
        responses={207: s.AlpacaMultiStatusSerializer(many=True)},
    )
    def delete(self, request):
        results = trading.cancel_all(self.account, request.user)
        return Response(results, status=status.HTTP_207_MULTI_STATUS)


class OrderView(AlpacaView):
    @doc(
        "One order",
        {200: s.AlpacaOrderSerializer, 404: _err("No such order: 40410000")},
        parameters=[q("nested", "With its legs (bracket, oco, oto)", OpenApiTypes.BOOL)],
    )
    def get(self, request, order_id):
        nested = trading.truthy(request.query_params.get("nested"))
        return Response(
            trading.order_dict(trading.get_order(self.account, order_id), nested=nested)
        )

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
    q(
        "activity_types",
        "Comma-separated: FILL, CSD, CSW, FEE, INT, JNLC, DIV, DIVNRA, DIVWH, CIL, SPLIT",
    ),
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


PAGE_PARAMETERS = [
    q("start", "RFC 3339 time (default: the start of today, New York time)"),
    q("end", "RFC 3339 time (default: now)"),
    q("limit", "Items per page across the symbols (1000; up to 10000)", OpenApiTypes.INT),
    q("page_token", "next_page_token of the previous page"),
    q("sort", "asc (default) or desc", enum=["asc", "desc"]),
    FEED,
]
BAR_PARAMETERS = [
    q(
        "timeframe",
        "1Min to 59Min, 1Hour to 23Hour, or 1Day (also 5T, 1H, 1D)",
        pattern=r"^(([1-9]|[1-5][0-9])(Min|T)|([1-9]|1[0-9]|2[0-3])(Hour|H)|1(Day|D))$",
        required=True,  # as Alpaca's: without one the answer is a 400
    ),
    *PAGE_PARAMETERS,
    q("adjustment", "Accepted and ignored: no corporate actions here"),
]
DATA_ERRORS = {400: _err("A bad parameter: 40010001"), 422: _err("Not offered: 42210000")}


class BarsView(AlpacaView):
    @doc(
        "Bars (intraday from the market's path, daily from the stored closes and today's path)",
        {200: s.AlpacaBarsSerializer, **DATA_ERRORS},
        DATA_TAG,
        parameters=[SYMBOLS, *BAR_PARAMETERS],
    )
    def get(self, request):
        symbols = market.symbols_param(request.query_params.get("symbols"))
        return Response(data.bars(symbols, request.query_params))


class SymbolBarsView(AlpacaView):
    @doc(
        "Bars of a symbol",
        {200: s.AlpacaSymbolBarsSerializer, **DATA_ERRORS},
        DATA_TAG,
        parameters=BAR_PARAMETERS,
        operation_id="v2_stock_bars",
    )
    def get(self, request, symbol):
        symbol = market.symbols_param(symbol)[0]
        found = data.bars([symbol], request.query_params)
        return Response(
            {
                "symbol": symbol,
                "bars": found["bars"].get(symbol, []),
                "next_page_token": found["next_page_token"],
            }
        )


class LatestBarsView(AlpacaView):
    @doc(
        "Latest minute bars",
        {200: s.AlpacaLatestBarsSerializer},
        DATA_TAG,
        parameters=[SYMBOLS, FEED],
    )
    def get(self, request):
        symbols = market.symbols_param(request.query_params.get("symbols"))
        return Response({"bars": data.latest_bars(symbols)})


class LatestBarView(AlpacaView):
    @doc(
        "Latest minute bar of a symbol",
        {200: s.AlpacaLatestBarSerializer, 404: _err("Unknown symbol")},
        DATA_TAG,
        parameters=[FEED],
        operation_id="v2_stock_latest_bar",
    )
    def get(self, request, symbol):
        symbol = market.symbols_param(symbol)[0]
        found = data.latest_bars([symbol])
        if symbol not in found:
            raise errors.not_found(f"no bar for {symbol}")
        return Response({"symbol": symbol, "bar": found[symbol]})


class SnapshotsView(AlpacaView):
    @doc(
        "Snapshots: latest trade and quote, minute bar, daily bar and the day before's",
        {200: s.SNAPSHOTS_SCHEMA},
        DATA_TAG,
        parameters=[SYMBOLS, FEED],
    )
    def get(self, request):
        symbols = market.symbols_param(request.query_params.get("symbols"))
        return Response(data.snapshots(symbols))


class SnapshotView(AlpacaView):
    @doc(
        "Snapshot of a symbol",
        {200: s.AlpacaSnapshotSerializer, 404: _err("Unknown symbol")},
        DATA_TAG,
        parameters=[FEED],
        operation_id="v2_stock_snapshot",
    )
    def get(self, request, symbol):
        symbol = market.symbols_param(symbol)[0]
        found = data.snapshots([symbol])
        if symbol not in found:
            raise errors.not_found(f"no snapshot for {symbol}")
        return Response({"symbol": symbol, **found[symbol]})


def _history_views(kind: str, many, one) -> tuple[type, type]:
    produce = getattr(data, kind)

    @doc(
        f"Historical {kind}",
        {200: many, **DATA_ERRORS},
        DATA_TAG,
        parameters=[SYMBOLS, *PAGE_PARAMETERS],
        operation_id=f"v2_stocks_{kind}",
    )
    def get_many(self, request):
        symbols = market.symbols_param(request.query_params.get("symbols"))
        return Response(produce(symbols, request.query_params))

    @doc(
        f"Historical {kind} of a symbol",
        {200: one, **DATA_ERRORS},
        DATA_TAG,
        parameters=PAGE_PARAMETERS,
        operation_id=f"v2_stock_{kind}",
    )
    def get_one(self, request, symbol):
        symbol = market.symbols_param(symbol)[0]
        found = produce([symbol], request.query_params)
        return Response(
            {
                "symbol": symbol,
                kind: found[kind].get(symbol, []),
                "next_page_token": found["next_page_token"],
            }
        )

    name = kind.capitalize()
    return (
        type(f"{name}View", (AlpacaView,), {"get": get_many, "__module__": __name__}),
        type(f"Symbol{name}View", (AlpacaView,), {"get": get_one, "__module__": __name__}),
    )


QuotesView, SymbolQuotesView = _history_views(
    "quotes", s.AlpacaQuotesSerializer, s.AlpacaSymbolQuotesSerializer
)
TradesView, SymbolTradesView = _history_views(
    "trades", s.AlpacaTradesSerializer, s.AlpacaSymbolTradesSerializer
)


# --- Account configurations and watchlists ---------------------------------------------------


class AccountConfigurationsView(AlpacaView):
    @doc("The account's configurations", {200: s.AlpacaAccountConfigurationsSerializer})
    def get(self, request):
        return Response(configurations.configurations_dict(self.account))

    @doc(
        "Change some of the account's configurations",
        {
            200: s.AlpacaAccountConfigurationsSerializer,
            400: _err("A value that is not accepted: 40010001"),
            422: _err("A setting that is not offered (shorting, fractions): 42210000"),
        },
        request=s.AlpacaAccountConfigurationsSerializer,
    )
    def patch(self, request):
        return Response(configurations.update(self.account, request.user, request.data))


WATCHLIST_ERRORS = {
    404: _err("No such watchlist or symbol: 40410000"),
    422: _err("Invalid name or symbols, a name in use, or a cap reached"),
}


def _watchlist_body(request) -> dict:
    if not isinstance(request.data, dict):
        raise errors.AlpacaError(400, errors.MALFORMED, "request body format is invalid")
    return request.data


class WatchlistsView(AlpacaView):
    @doc("The watchlists", {200: s.AlpacaWatchlistSerializer(many=True)})
    def get(self, request):
        return Response(
            [
                watchlists.watchlist_dict(self.account, w, with_assets=False)
                for w in lists.watchlists(request.user)
            ]
        )

    @doc(
        "Create a watchlist",
        {200: s.AlpacaWatchlistSerializer, **WATCHLIST_ERRORS},
        request=s.AlpacaWatchlistRequestSerializer,
    )
    def post(self, request):
        data = _watchlist_body(request)
        created = lists.create_watchlist(request.user, data.get("name"), data.get("symbols"))
        return Response(watchlists.watchlist_dict(self.account, created))


def _one_watchlist_view(name: str, by_name: bool) -> type:
    """The view of one watchlist, by id (`/v2/watchlists/{id}`) or by name
    (`/v2/watchlists:by_name?name=`): GET, PUT (rename, replace), POST (add), DELETE."""
    params = [q("name", "The watchlist's name")] if by_name else []
    suffix = "_by_name" if by_name else ""
    answers = {200: s.AlpacaWatchlistSerializer, **WATCHLIST_ERRORS}

    def found(view, request, watchlist_id):
        if by_name:
            return lists.watchlist_by_name(request.user, request.query_params.get("name"))
        return lists.get_watchlist(request.user, watchlist_id)

    @doc("One watchlist", answers, parameters=params, operation_id=f"v2_watchlist{suffix}_get")
    def get(self, request, watchlist_id=None):
        return Response(watchlists.watchlist_dict(self.account, found(self, request, watchlist_id)))

    @doc(
        "Rename a watchlist and/or replace its symbols",
        answers,
        parameters=params,
        request=s.AlpacaWatchlistRequestSerializer,
        operation_id=f"v2_watchlist{suffix}_update",
    )
    def put(self, request, watchlist_id=None):
        data = _watchlist_body(request)
        changed = lists.update_watchlist(
            request.user,
            found(self, request, watchlist_id),
            data.get("name"),
            data.get("symbols"),
        )
        return Response(watchlists.watchlist_dict(self.account, changed))

    @doc(
        "Add a symbol to a watchlist",
        answers,
        parameters=params,
        request=s.AlpacaWatchlistSymbolSerializer,
        operation_id=f"v2_watchlist{suffix}_add_symbol",
    )
    def post(self, request, watchlist_id=None):
        data = _watchlist_body(request)
        changed = lists.add_to_watchlist(
            request.user, found(self, request, watchlist_id), data.get("symbol")
        )
        return Response(watchlists.watchlist_dict(self.account, changed))

    @doc(
        "Delete a watchlist",
        {204: None, 404: _err("No such watchlist")},
        parameters=params,
        operation_id=f"v2_watchlist{suffix}_delete",
    )
    def delete(self, request, watchlist_id=None):
        lists.delete_watchlist(request.user, found(self, request, watchlist_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    methods = {"get": get, "put": put, "post": post, "delete": delete}
    return type(name, (AlpacaView,), {**methods, "__module__": __name__})


WatchlistView = _one_watchlist_view("WatchlistView", by_name=False)
WatchlistByNameView = _one_watchlist_view("WatchlistByNameView", by_name=True)


class WatchlistSymbolView(AlpacaView):
    @doc(
        "Remove a symbol from a watchlist",
        {200: s.AlpacaWatchlistSerializer, 404: _err("No such watchlist, or symbol not on it")},
        operation_id="v2_watchlist_remove_symbol",
    )
    def delete(self, request, watchlist_id, symbol):
        found = lists.get_watchlist(request.user, watchlist_id)
        changed = lists.remove_from_watchlist(request.user, found, symbol)
        return Response(watchlists.watchlist_dict(self.account, changed))
